import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBus } from '../shared/bus/bus.ts';
import type { LocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import type { DuckDbCatalog } from '../shared/catalog/duckdb/duckdb-catalog.ts';
import type { Metastore } from '../shared/catalog/metastore.ts';
import { BusError, CatalogError, StoreError } from '../shared/errors.ts';
import type { EnrichedEvent } from '../shared/event.ts';
import type { DirObjectStore } from '../shared/object-store/dir/dir-object-store.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import { type EmbeddedLoader, embeddedLoader } from './fixtures/embedded-ports.ts';
import { expectedCounts, type LoaderHarness } from './fixtures/loader-harness.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import { parseHour } from './layout.ts';
import type { LoaderDeps } from './loader-deps.ts';
import { replayHours } from './replay.ts';
import { runOnce } from './run-once.ts';
import { loaderStatus } from './status.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);

function threeHours(count: number, seed: number): EnrichedEvent[] {
  return [...syntheticEvents(count, { seed, startMs: T0, spanMs: 3 * 3_600_000 })];
}

/** A port whose method `name` throws `error()` while `when(args)` holds; every other call goes through. */
function failing<T extends object>(
  port: T,
  name: string,
  error: () => Error,
  when: (args: unknown[]) => boolean,
): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop !== name) return value.bind(target);
      return async (...args: unknown[]) => {
        if (when(args)) throw error();
        return value.apply(target, args);
      };
    },
  });
}

describe('a load that dies is settled by the next one', () => {
  let ports: EmbeddedLoader;
  let bus: LocalLogBus;
  let store: DirObjectStore;
  let catalog: DuckDbCatalog;
  let h: LoaderHarness;

  beforeEach(async () => {
    ports = await embeddedLoader('loader-repair');
    ({ bus, store, catalog, h } = ports);
  });
  afterEach(() => ports.close());

  const pendingKey = () => `${h.deps.settings.warehousePrefix}_loader/pending/${h.deps.settings.topic}.json`;

  it('keeps every file of a run that died after its commit, before it cleared its manifest', async () => {
    const events = threeHours(1500, 41);
    await h.produce(events);
    // The manifest's removal fails: the state a SIGKILL right after the commit leaves.
    const dies: ObjectStore = failing(
      store,
      'delete',
      () => new StoreError('killed after the commit (test)', { retriable: true }),
      (args) => (args[0] as string[]).includes(pendingKey()),
    );
    await expect(runOnce({ ...h.deps, store: dies })).rejects.toThrow(/killed after the commit/);
    expect((await loaderStatus(h.deps)).pendingRun).not.toBeNull();

    const next = await runOnce(h.deps);
    expect(next).toMatchObject({ ok: true, events: 0, duplicates: 0 });
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    expect(next.repaired).toMatch(/stopped after its commit/);
    const [{ n, distinct } = {}] = await h.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS distinct FROM ${h.deps.settings.tables.events}`,
    );
    expect(Number(n)).toBe(1500);
    expect(Number(distinct)).toBe(1500);
    expect((await loaderStatus(h.deps)).pendingRun).toBeNull();
  });

  it('does not wait for the consumer group: a group that refuses commits does not fail the load', async () => {
    const events = threeHours(600, 43);
    await h.produce(events);
    const busy: EventBus = failing(
      bus,
      'commit',
      () => new BusError('group has running instances (test)', { code: 'group_busy', retriable: true }),
      () => true,
    );
    expect(await runOnce({ ...h.deps, bus: busy })).toMatchObject({ ok: true, events: 600 });
    expect(await bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual([]);
    // The next run starts from the loader's own record, not from the group's (empty) offsets...
    const more = threeHours(300, 44);
    await h.produce(more);
    expect(await runOnce(h.deps)).toMatchObject({ ok: true, events: 300, duplicates: 0 });
    expect(await h.countsByHour()).toEqual(expectedCounts([...events, ...more]));
    // ...and mirrors it to the group once the group accepts commits again.
    const lag = await loaderStatus(h.deps);
    expect(lag.lag).toBe(0);
    const group = await bus.committed(h.deps.settings.group, h.deps.settings.topic);
    expect(group.reduce((n, p) => n + p.offset, 0)).toBe(900);
  });

  it('undoes a replay that died before its swap: nothing of it registered, its files removed', async () => {
    const events = threeHours(900, 47);
    await h.produce(events);
    await runOnce(h.deps);
    const before = await h.query(
      `SELECT message_id, country FROM ${h.deps.settings.tables.events} ORDER BY 1`,
    );
    const dies: Metastore = failing(
      catalog,
      'ensureTable',
      () => new CatalogError('HiveServer2 is down (test)', { retriable: true, code: 'unavailable' }),
      () => true,
    );
    const fixed: LoaderDeps = { ...h.deps, catalog: dies, transform: (row) => ({ ...row, country: 'XX' }) };
    const hour = parseHour('2026-11-25T10');
    await expect(replayHours(fixed, { from: hour, to: hour })).rejects.toThrow(/HiveServer2 is down/);
    const status = await loaderStatus(h.deps);
    expect(status.pendingCommand).toBe('replay (uploading)');
    expect(status.lastRun).toMatchObject({ command: 'replay', ok: false });

    const next = await runOnce(h.deps);
    expect(next.repaired).toMatch(/stopped before its swap/);
    expect(
      await h.query(`SELECT message_id, country FROM ${h.deps.settings.tables.events} ORDER BY 1`),
    ).toEqual(before);
    const leftovers: string[] = [];
    for await (const o of store.list(h.deps.settings.warehousePrefix)) {
      if (o.key.includes('/v=')) leftovers.push(o.key);
    }
    expect(leftovers).toEqual([]);
  });

  it('finishes a replay that died during its swap: every replayed hour moves, none stays half old', async () => {
    const events = threeHours(900, 53);
    await h.produce(events);
    await runOnce(h.deps);
    let swapped = 0;
    const dies: Metastore = failing(
      catalog,
      'setPartitionLocation',
      () => new CatalogError('HiveServer2 died mid-swap (test)', { retriable: true, code: 'unavailable' }),
      () => ++swapped > 1,
    );
    const fixed: LoaderDeps = { ...h.deps, catalog: dies, transform: (row) => ({ ...row, country: 'XX' }) };
    await expect(
      replayHours(fixed, { from: parseHour('2026-11-25T09'), to: parseHour('2026-11-25T10') }),
    ).rejects.toThrow(/mid-swap/);
    expect((await loaderStatus(h.deps)).pendingCommand).toBe('replay (swapping)');

    const next = await runOnce(h.deps);
    expect(next.repaired).toMatch(/the swap is finished/);
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const rows = await h.query(
      `SELECT hour, count(*) AS n, count(*) FILTER (WHERE country = 'XX') AS xx
       FROM ${h.deps.settings.tables.events} GROUP BY hour ORDER BY hour`,
    );
    expect(rows.map((r) => [r.hour, Number(r.xx) === Number(r.n)])).toEqual([
      ['09', true],
      ['10', true],
      ['11', false],
    ]);
    const [rollup] = await h.query(`SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly}`);
    expect(Number(rollup?.n)).toBe(900);
  });

  it('refuses to replay while a run that died before its commit is unsettled', async () => {
    await h.produce(threeHours(300, 59));
    const dies: Metastore = failing(
      catalog,
      'addPartitions',
      () => new CatalogError('HiveServer2 is down (test)', { retriable: true, code: 'unavailable' }),
      () => true,
    );
    await expect(runOnce({ ...h.deps, catalog: dies })).rejects.toThrow(/down/);
    const hour = parseHour('2026-11-25T10');
    await expect(replayHours(h.deps, { from: hour, to: hour })).rejects.toThrow(/run `loader run` first/);
    await runOnce(h.deps);
    expect(await replayHours(h.deps, { from: hour, to: hour })).toMatchObject({ ok: true });
  });
});
