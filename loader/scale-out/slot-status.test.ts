/**
 * `loader status` while scaled out, on the embedded adapters: the slot
 * records are written by real scaled-out loads (runScaledOut) of slot 0 of
 * two topics; the assignment is a fixed one rather than Kafka's group (the
 * group decides only who loads a slot, and these loads need no Kafka).
 * Slot 1 is left unloaded, its lock held by another loader and a crashed
 * run's manifest in it: the status must tell the slots apart.
 */
import { describe, expect, it } from 'vitest';
import { type EnrichedEvent, eventKey } from '../../shared/event.ts';
import { embeddedLoaderPerTest } from '../fixtures/embedded-ports.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { layoutOf } from '../loader-deps.ts';
import { LoaderState } from '../loader-state.ts';
import { acquireLock } from '../object-store-lock.ts';
import { loaderStatus } from '../status.ts';
import { statusLines } from '../status-command.ts';
import type { SlotMember } from './group-member.ts';
import { runScaledOut } from './scaled-run.ts';
import { slotLockName, slotStateName } from './slot-names.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);

describe('loader status, scaled out', () => {
  const ports = embeddedLoaderPerTest('slot-status');

  it('reports each slot: its lock, offsets per topic, last run and an unfinished load', async () => {
    const { h, bus, store } = ports();
    const { group, topic: eu } = h.deps.settings;
    const us = `${eu}_us`;
    await bus.ensureTopic(us, 2);
    const produce = async (topic: string, events: EnrichedEvent[]) =>
      bus.produce(
        topic,
        events.map((e) => ({
          key: eventKey(e),
          value: JSON.stringify(e),
          timestamp: Date.parse(e.receivedAt),
        })),
      );
    await produce(eu, [...syntheticEvents(300, { seed: 1, startMs: T0, spanMs: 3_600_000 })]);
    await produce(us, [...syntheticEvents(200, { seed: 2, startMs: T0, spanMs: 3_600_000 })]);
    const marks = async (topic: string) =>
      Object.fromEntries((await bus.watermarks(topic)).map((m) => [m.partition, m.high]));
    const [euHigh, usHigh] = [await marks(eu), await marks(us)];

    // This process owns slot 0 of both topics and loads it.
    const member: SlotMember = {
      topics: [eu, us],
      slots: () => new Map([[0, [eu, us]]]),
      commit: async () => undefined,
      leave: async () => undefined,
    };
    const pass = await runScaledOut(h.deps, member);
    expect(pass.loads.map((r) => r.ok)).toEqual([true, true]);
    // Another loader is on slot 1, and a run of it died before its commit.
    const layout = layoutOf(h.deps);
    const other = await acquireLock(store, layout.lockKey(slotLockName(group, 1)), {
      owner: 'run-elsewhere',
      purpose: 'run',
      ttlMs: 60_000,
    });
    await new LoaderState(store, layout, slotStateName(group, 1, us)).writePending({
      runId: 'crashed-run',
      command: 'run',
      keys: [],
      hours: [],
    });

    const status = await loaderStatus(h.deps, { topics: [eu, us] });
    const [slot0, slot1] = status.scaledOut?.slots ?? [];
    expect(slot0).toMatchObject({
      slot: 0,
      lock: null,
      lag: 0,
      topics: [
        { topic: eu, committed: euHigh[0], lag: 0, lastHour: '2026-11-25T09', pendingRun: null },
        { topic: us, committed: usHigh[0], lag: 0, lastHour: '2026-11-25T09', pendingRun: null },
      ],
    });
    expect(slot0?.topics.map((t) => t.lastRun?.events)).toEqual([euHigh[0], usHigh[0]]);
    expect(slot1).toMatchObject({
      slot: 1,
      lock: { owner: 'run-elsewhere', purpose: 'run' },
      lag: (euHigh[1] ?? 0) + (usHigh[1] ?? 0),
      topics: [
        { topic: eu, committed: null, lag: euHigh[1], lastRun: null, pendingRun: null },
        { topic: us, committed: null, lag: usHigh[1], lastRun: null, pendingRun: 'crashed-run' },
      ],
    });
    expect(status).toMatchObject({
      topic: `${eu}, ${us}`,
      lag: (euHigh[1] ?? 0) + (usHigh[1] ?? 0),
      lastHour: '2026-11-25T09',
      lock: null,
      pendingRun: 'crashed-run',
      pendingCommand: 'run',
    });
    expect(status.partitions).toHaveLength(4);
    const text = statusLines(status).join('\n');
    expect(text).toContain('slot 1: ');
    expect(text).toContain('lock run by run-elsewhere');
    expect(text).toContain('pending: run crashed-run did not finish');
    await other.release();
  });
});
