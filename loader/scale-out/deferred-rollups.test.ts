/**
 * The bounded wait for an hour's rollup lock, on the embedded adapters:
 * another process holds the hour's lock (hung, or dead on another host
 * until its lease expires); a scaled-out pass loads and commits anyway,
 * leaving that hour's rollups to each slot's next load, with a log line and
 * a metric; once the lock is free the next pass recomputes them, exactly.
 * The slots are assigned by a fixed member rather than Kafka's group (only
 * who loads a slot comes from the group).
 */
import { describe, expect, it } from 'vitest';
import { embeddedLoaderPerTest } from '../fixtures/embedded-ports.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { hourLabel } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import { acquireLock } from '../object-store-lock.ts';
import { createLoaderMetrics } from '../start.ts';
import type { SlotMember } from './group-member.ts';
import { runScaledOut } from './scaled-run.ts';
import { hourLocksName, slotLockName } from './slot-names.ts';

const HOUR = Date.UTC(2026, 10, 25, 9) / 3_600_000;

describe('a busy hour rollup lock, scaled out', () => {
  const ports = embeddedLoaderPerTest('deferred-rollups');

  it('is waited for up to rollupLockWaitMs, then left to the next load, which recomputes it', async () => {
    const { h, store } = ports();
    const warnings: string[] = [];
    const deps: LoaderDeps = {
      ...h.deps,
      settings: { ...h.deps.settings, rollupLockWaitMs: 300 },
      logger: h.deps.logger.child({}),
    };
    deps.logger.warn = ((...args: unknown[]) => {
      warnings.push(String(args.find((a) => typeof a === 'string')));
    }) as typeof deps.logger.warn;
    const { group, topic, tables } = deps.settings;
    const layout = layoutOf(deps);
    const events = [...syntheticEvents(400, { seed: 13, startMs: HOUR * 3_600_000, spanMs: 3_600_000 })];
    await h.produce(events);
    const member: SlotMember = {
      topics: [topic],
      slots: () =>
        new Map([
          [0, [topic]],
          [1, [topic]],
        ]),
      commit: async () => undefined,
      leave: async () => undefined,
    };
    const stuck = await acquireLock(store, layout.lockKey(`${hourLocksName(group)}/${hourLabel(HOUR)}`), {
      owner: 'stuck-elsewhere',
      purpose: 'rollups',
      ttlMs: 60 * 60_000,
    });

    const first = await runScaledOut(deps, member);
    expect(first.total).toMatchObject({ ok: true, events: 400, deferredRollups: [hourLabel(HOUR)] });
    // Loaded, registered and committed; only the hour's rollups wait.
    expect(await h.countsByHour()).toEqual({ [hourLabel(HOUR)]: 400 });
    expect(await store.get(layout.rollupKey('events_hourly', HOUR))).toBeNull();
    for (const slot of [0, 1]) {
      const due = await store.get(layout.rollupsDueKey(slotLockName(group, slot)));
      expect(JSON.parse(new TextDecoder().decode(due as Uint8Array))).toEqual({ hours: [hourLabel(HOUR)] });
    }
    expect(warnings.filter((w) => w.includes('rollup lock stayed busy'))).toHaveLength(2);
    const metrics = createLoaderMetrics();
    metrics.observe(first.total);
    expect(await metrics.registry.metrics()).toMatch(/^loader_rollups_deferred_total 1$/m);

    await stuck.release();
    const second = await runScaledOut(deps, member);
    expect(second.total).toMatchObject({ ok: true, events: 0 });
    expect(second.total.deferredRollups).toBeUndefined();
    const [people] = await h.query(
      `SELECT count(*) AS n FROM ${tables.events} WHERE coalesce(is_bot, false) = false`,
    );
    const [rolled] = await h.query(`SELECT sum(events) AS n FROM ${tables.eventsHourly}`);
    expect(Number(rolled?.n)).toBe(Number(people?.n));
    expect(Number(people?.n)).toBeGreaterThan(0);
    for (const slot of [0, 1])
      expect(await store.get(layout.rollupsDueKey(slotLockName(group, slot)))).toBeNull();
  });
});
