/**
 * The region router over two embedded buses (the local log), each behind a switch that makes
 * produce fail or hang and the probe's watermarks fail: failover to the next region, the
 * return to the own region once it answers the probe, nothing lost in between, every region
 * down → a rejection (the sink then spools), and refused records not retried elsewhere.
 * Against real Kafka clusters with a SIGKILLed broker: test/regions/failover.regions.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus } from '../../shared/bus/bus.ts';
import { type LocalLogBus, openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { BusError } from '../../shared/errors.ts';
import { registerRegionMetrics } from './region-metrics.ts';
import { RegionRouter } from './region-router.ts';

const TOPIC = 'events';
const logger = pino({ level: 'silent' });

function switchable(inner: EventBus) {
  const state = { mode: 'up' as 'up' | 'down' | 'hang' | 'slow' };
  const fail = () =>
    state.mode === 'down'
      ? Promise.reject(new BusError('broker down', { retriable: true }))
      : new Promise<never>(() => {});
  const bus: EventBus = Object.create(inner, {
    produce: {
      value: (topic: string, messages: BusMessage[]) =>
        state.mode === 'up'
          ? inner.produce(topic, messages)
          : state.mode === 'slow'
            ? sleep(150).then(() => inner.produce(topic, messages))
            : fail(),
    },
    watermarks: {
      value: (topic: string) =>
        state.mode === 'down' || state.mode === 'hang' ? fail() : inner.watermarks(topic),
    },
    close: { value: () => Promise.resolve() },
  });
  return { bus, state };
}

const messages = (from: number, n: number): BusMessage[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 5}`, value: `m-${from + i}` }));

async function count(bus: EventBus): Promise<number> {
  return (await bus.watermarks(TOPIC)).reduce((sum, w) => sum + w.high - w.low, 0);
}

let dir: string;
let eu: LocalLogBus;
let us: LocalLogBus;
let router: RegionRouter;
let euSwitch: ReturnType<typeof switchable>;
let usSwitch: ReturnType<typeof switchable>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-regions-'));
  eu = await openLocalLogBus({ dir: join(dir, 'eu'), fsync: 'never' });
  us = await openLocalLogBus({ dir: join(dir, 'us'), fsync: 'never' });
  euSwitch = switchable(eu);
  usSwitch = switchable(us);
  router = new RegionRouter({
    regions: [
      { name: 'eu', bus: euSwitch.bus },
      { name: 'us', bus: usSwitch.bus },
    ],
    topic: TOPIC,
    attemptTimeoutMs: 200,
    probeIntervalMs: 50,
    logger,
  });
  await router.ensureTopic(TOPIC, 3);
});
afterEach(async () => {
  await router.close();
  await eu.close();
  await us.close();
  await rm(dir, { recursive: true, force: true });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(25);
  expect(check()).toBe(true);
}

describe('RegionRouter', () => {
  it('creates the topic in every region', async () => {
    expect(await count(eu)).toBe(0);
    expect(await count(us)).toBe(0);
  });

  it('sends to its own region while it answers', async () => {
    await router.produce(TOPIC, messages(0, 10));
    expect(await count(eu)).toBe(10);
    expect(await count(us)).toBe(0);
    expect(router.target).toBe('eu');
  });

  for (const mode of ['down', 'hang'] as const) {
    it(`fails over to the next region when its own is ${mode}, and returns once it answers`, async () => {
      await router.produce(TOPIC, messages(0, 10));
      euSwitch.state.mode = mode;
      await router.produce(TOPIC, messages(10, 10));
      expect(router.target).toBe('us');
      expect(await count(us)).toBe(10);
      // The next produce goes to us at once: no attempt at eu while it is down.
      await router.produce(TOPIC, messages(20, 10));
      expect(await count(us)).toBe(20);
      const euStats = router.stats().find((s) => s.name === 'eu');
      expect(euStats).toMatchObject({ errors: 1, failoversFrom: 1, target: false });

      euSwitch.state.mode = 'up';
      await until(() => router.target === 'eu');
      await router.produce(TOPIC, messages(30, 10));
      expect(await count(eu)).toBe(20);
      expect(await count(us)).toBe(20);
    });
  }

  it('keeps the return when a produce begun on the other region finishes after it', async () => {
    euSwitch.state.mode = 'down';
    await router.produce(TOPIC, messages(0, 5));
    expect(router.target).toBe('us');
    usSwitch.state.mode = 'slow';
    const late = router.produce(TOPIC, messages(5, 5));
    euSwitch.state.mode = 'up';
    await until(() => router.target === 'eu');
    await late;
    expect(router.target).toBe('eu');
    expect(router.stats().find((s) => s.name === 'eu')?.failoversFrom).toBe(1);
  });

  it('rejects when every region is down, so the sink spools', async () => {
    euSwitch.state.mode = 'down';
    usSwitch.state.mode = 'hang';
    await expect(router.produce(TOPIC, messages(0, 5))).rejects.toThrow(/did not answer/);
    expect(await count(eu)).toBe(0);
    expect(await count(us)).toBe(0);
    usSwitch.state.mode = 'up';
    await router.produce(TOPIC, messages(0, 5));
    expect(router.target).toBe('us');
  });

  it('does not send records the bus refuses for good to another region', async () => {
    const refusing: EventBus = Object.create(euSwitch.bus, {
      produce: { value: () => Promise.reject(new BusError('too large', { code: 'message_too_large' })) },
    });
    const r = new RegionRouter({
      regions: [
        { name: 'eu', bus: refusing },
        { name: 'us', bus: usSwitch.bus },
      ],
      topic: TOPIC,
      attemptTimeoutMs: 200,
      probeIntervalMs: 50,
      logger,
    });
    await expect(r.produce(TOPIC, messages(0, 1))).rejects.toThrow(/too large/);
    expect(r.target).toBe('eu');
    expect(await count(us)).toBe(0);
    await r.close();
  });

  it('exposes rate, errors, failovers and the target per region', async () => {
    const registry = new Registry();
    registerRegionMetrics(registry, router);
    await router.produce(TOPIC, messages(0, 7));
    euSwitch.state.mode = 'down';
    await router.produce(TOPIC, messages(7, 3));
    const text = await registry.metrics();
    expect(text).toContain('# TYPE edge_region_events_total counter');
    expect(text).toContain('edge_region_events_total{region="eu"} 7');
    expect(text).toContain('edge_region_events_total{region="us"} 3');
    expect(text).toContain('edge_region_errors_total{region="eu"} 1');
    expect(text).toContain('edge_region_failovers_total{region="eu"} 1');
    expect(text).toContain('edge_region_target{region="eu"} 0');
    expect(text).toContain('edge_region_target{region="us"} 1');
  });
});
