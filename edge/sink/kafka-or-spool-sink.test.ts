/**
 * The sink's state machine (direct → spool → drain → direct) over the
 * embedded bus adapter, behind a switch that makes produce fail or hang.
 * The same guarantees against a real broker killed with SIGKILL are in
 * ../fault.integration.test.ts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BusMessage, EventBus } from '../../shared/bus/bus.ts';
import { type LocalLogBus, openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { BusError, InputError } from '../../shared/errors.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { SinkUnavailableError } from '../edge-errors.ts';
import { produce } from '../pipeline/produce.ts';
import { readTopic } from '../testing/read-topic.ts';
import { DiskSpool } from './disk-spool.ts';
import { KafkaOrSpoolSink } from './kafka-or-spool-sink.ts';

const TOPIC = 'events';
const logger = pino({ level: 'silent' });

/**
 * The embedded bus with a switch: 'up', 'down' (produce rejects) or 'hang'
 * (never settles); `refuse` makes it refuse for good any produce holding that messageId.
 */
function switchable(inner: EventBus) {
  const state = { mode: 'up' as 'up' | 'down' | 'hang', produceCalls: 0, refuse: '' };
  const bus: EventBus = Object.create(inner, {
    produce: {
      value: (topic: string, messages: BusMessage[]) => {
        state.produceCalls += 1;
        if (state.mode === 'down') return Promise.reject(new BusError('broker down', { retriable: true }));
        if (state.mode === 'hang') return new Promise<void>(() => {});
        if (state.refuse && messages.some((m) => String(m.value).includes(state.refuse))) {
          return Promise.reject(new BusError('record too large', { code: 'message_too_large', status: 413 }));
        }
        return inner.produce(topic, messages);
      },
    },
  });
  return { bus, state };
}

function event(i: number, user = `u${i % 3}`): EnrichedEvent {
  return {
    type: 'track',
    event: 'E',
    messageId: `m-${i}`,
    userId: user,
    projectId: 'p',
    timestamp: '2026-03-01T12:00:00.000Z',
    receivedAt: '2026-03-01T12:00:00.000Z',
  };
}

let dir: string;
let local: LocalLogBus;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-sink-'));
  local = await openLocalLogBus({ dir: join(dir, 'bus'), fsync: 'never' });
  await local.ensureTopic(TOPIC, 3);
});
afterEach(async () => {
  await local.close();
  await rm(dir, { recursive: true, force: true });
});

async function makeSink(
  bus: EventBus,
  spoolOverrides: { maxBytes?: number; drainTimeoutMs?: number; produceTimeoutMs?: number } = {},
) {
  const spool = await DiskSpool.open({
    dir: join(dir, 'spool'),
    maxBytes: spoolOverrides.maxBytes ?? 10 * 1024 * 1024,
    segmentBytes: 2048,
    fullRetryAfterSeconds: 3,
    logger,
  });
  const sink = new KafkaOrSpoolSink({
    bus,
    topic: TOPIC,
    spool,
    logger,
    produceTimeoutMs: spoolOverrides.produceTimeoutMs ?? 200,
    drainTimeoutMs: spoolOverrides.drainTimeoutMs ?? 200,
    maxBatchMessages: 50,
    maxBatchBytes: 64 * 1024,
    maxInFlight: 2,
    drainBackoff: { minMs: 5, maxMs: 20 },
  });
  sink.start();
  return { sink, spool };
}

const ids = async () => (await readTopic(local, TOPIC)).map((m) => m.event.messageId);

describe('KafkaOrSpoolSink', () => {
  it('produces directly while the bus answers, keyed by eventKey', async () => {
    const { sink, spool } = await makeSink(local);
    await Promise.all([sink.accept([event(1), event(2)]), sink.accept([event(3)])]);
    const messages = await readTopic(local, TOPIC);
    expect(messages.map((m) => m.event.messageId).sort()).toEqual(['m-1', 'm-2', 'm-3']);
    expect(messages.find((m) => m.event.messageId === 'm-1')?.key).toBe('p:u1');
    expect(messages[0]?.timestamp).toBe(Date.parse('2026-03-01T12:00:00.000Z'));
    expect(spool.stats().records).toBe(0);
    expect(sink.stats().mode).toBe('direct');
    await sink.close(1000);
  });

  it('spools while the bus is down, then drains in order and goes direct again', async () => {
    const { bus, state } = switchable(local);
    const { sink, spool } = await makeSink(bus);
    state.mode = 'down';
    for (let i = 0; i < 40; i++) await sink.accept([event(i, 'same-user')]);
    expect(sink.stats().mode).toBe('spool');
    expect(spool.stats().records).toBe(40);
    expect(sink.readiness()).toMatchObject({ ready: true, detail: { mode: 'spool', spoolRecords: 40 } });
    state.mode = 'up';
    await vi.waitFor(() => expect(sink.stats().mode).toBe('direct'), { timeout: 10_000 });
    await sink.accept([event(40, 'same-user')]);
    // One key, one partition: the order the client was acknowledged in.
    expect(await ids()).toEqual(Array.from({ length: 41 }, (_, i) => `m-${i}`));
    expect(spool.stats().records).toBe(0);
    await sink.close(1000);
  });

  it('gets back to direct although clients never stop posting (handoff), keeping one key in order', async () => {
    const { bus, state } = switchable(local);
    const { sink } = await makeSink(bus);
    state.mode = 'down';
    let next = 0;
    let stop = false;
    // A closed-loop client: it posts again as soon as it is answered, faster than a drain.
    const client = (async () => {
      while (!stop) await sink.accept([event(next++, 'one-user')]);
    })();
    await vi.waitFor(() => expect(next).toBeGreaterThan(200), { timeout: 10_000 });
    state.mode = 'up';
    await vi.waitFor(() => expect(sink.stats().mode).toBe('direct'), { timeout: 20_000 });
    const atDirect = next;
    await vi.waitFor(() => expect(next).toBeGreaterThan(atDirect + 50), { timeout: 10_000 });
    stop = true;
    await client;
    expect(await ids()).toEqual(Array.from({ length: next }, (_, i) => `m-${i}`));
    await sink.close(1000);
  });

  it('does not hold clients back for a bus that has not answered since start', async () => {
    const { bus, state } = switchable(local);
    const first = await makeSink(bus);
    state.mode = 'down';
    await first.sink.accept([event(1)]);
    await first.sink.close(10);
    // Restart with a small backlog and a bus that hangs: a handoff now would make this
    // accept wait for the bus's long timeout (60 s) instead of going to the spool.
    state.mode = 'hang';
    const second = await makeSink(bus, { drainTimeoutMs: 60_000, produceTimeoutMs: 60_000 });
    await second.sink.accept([event(2)]);
    expect(second.spool.stats().records).toBe(2);
    state.mode = 'up';
    await second.sink.close(10);
  });

  it('moves a segment the bus refuses for good aside and keeps draining the rest', async () => {
    const { bus, state } = switchable(local);
    const { sink, spool } = await makeSink(bus);
    state.mode = 'down';
    await sink.accept([event(1), event(2)]);
    // Segments are 2 KB: the poisoned one is sealed before the next events arrive.
    await sink.accept(Array.from({ length: 10 }, (_, i) => event(100 + i)));
    state.refuse = '"m-1"';
    state.mode = 'up';
    await vi.waitFor(() => expect(sink.stats().mode).toBe('direct'), { timeout: 10_000 });
    expect(sink.stats().quarantined).toBeGreaterThan(0);
    expect(await readdir(join(dir, 'spool', 'dead'))).toHaveLength(1);
    expect(await ids()).toEqual(expect.arrayContaining(['m-109']));
    expect(spool.stats().records).toBe(0);
    await sink.close(1000);
  });

  it('treats a produce that hangs past the timeout as a failure', async () => {
    const { bus, state } = switchable(local);
    const { sink, spool } = await makeSink(bus);
    state.mode = 'hang';
    await sink.accept([event(1)]);
    expect(spool.stats().records).toBe(1);
    state.mode = 'up';
    await vi.waitFor(async () => expect(await ids()).toEqual(['m-1']), { timeout: 10_000 });
    await sink.close(1000);
  });

  it('answers spool_full when the bus is down and the spool bound is reached', async () => {
    const { bus, state } = switchable(local);
    const { sink } = await makeSink(bus, { maxBytes: 1500 });
    state.mode = 'down';
    const outcomes = [];
    for (let i = 0; i < 20; i++)
      outcomes.push(
        await sink.accept([event(i)]).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      );
    const refused = outcomes.filter((o) => o !== 'ok');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: 'spool_full', status: 503, retryAfterSeconds: 3 });
    expect(sink.readiness().ready).toBe(false);
    state.mode = 'up';
    const accepted = outcomes.flatMap((o, i) => (o === 'ok' ? [`m-${i}`] : []));
    await vi.waitFor(async () => expect((await ids()).sort()).toEqual(accepted.sort()), { timeout: 10_000 });
    await sink.close(1000);
  });

  it('keeps spooled events over a restart and delivers them on the next start', async () => {
    const { bus, state } = switchable(local);
    const first = await makeSink(bus);
    state.mode = 'down';
    for (let i = 0; i < 10; i++) await first.sink.accept([event(i)]);
    await first.sink.close(50);
    await expect(first.sink.accept([event(99)])).rejects.toMatchObject({ code: 'shutting_down' });

    state.mode = 'up';
    const second = await makeSink(bus);
    expect(second.sink.stats().mode).not.toBe('direct');
    await vi.waitFor(async () => expect((await ids()).length).toBe(10), { timeout: 10_000 });
    expect((await ids()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`).sort());
    await second.sink.close(1000);
  });

  it('fails only the request whose event cannot be serialised, with a 400, never sink_unavailable', async () => {
    const { sink } = await makeSink(local);
    // Built in code, past the door's depth check: JSON.stringify overflows the stack on it.
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const bad = { ...event(1), properties: { deep } } as EnrichedEvent;
    const [refused, fine] = await Promise.allSettled([produce(sink, [bad]), produce(sink, [event(2)])]);
    expect(refused.status).toBe('rejected');
    const err = (refused as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(InputError);
    expect(err).not.toBeInstanceOf(SinkUnavailableError);
    expect(err).toMatchObject({ status: 400, code: 'unserialisable_event' });
    expect(fine.status).toBe('fulfilled');
    expect(sink.stats()).toMatchObject({ mode: 'direct', busFailures: 0 });
    expect(await ids()).toEqual(['m-2']);
    await sink.close(100);
  });
});
