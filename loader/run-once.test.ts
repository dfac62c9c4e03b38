/**
 * The whole load on the embedded adapters (local log, directory store,
 * DuckDB catalog): the same scenarios the integration tests run on Kafka,
 * s3proxy and HiveServer2, here without servers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import type { DuckDbCatalog } from '../shared/catalog/duckdb/duckdb-catalog.ts';
import type { Metastore } from '../shared/catalog/metastore.ts';
import { CatalogError } from '../shared/errors.ts';
import type { EnrichedEvent } from '../shared/event.ts';
import type { DirObjectStore } from '../shared/object-store/dir/dir-object-store.ts';
import { type EmbeddedLoader, embeddedLoader } from './fixtures/embedded-ports.ts';
import { expectedCounts, type LoaderHarness } from './fixtures/loader-harness.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import { parseHour, WarehouseLayout } from './layout.ts';
import type { LoaderDeps } from './loader-deps.ts';
import { LoaderState } from './loader-state.ts';
import { LockBusyError } from './object-store-lock.ts';
import { replayHours } from './replay.ts';
import { runOnce } from './run-once.ts';
import { loaderStatus } from './status.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);

function threeHours(count: number, seed = 5): EnrichedEvent[] {
  return [...syntheticEvents(count, { seed, startMs: T0, spanMs: 3 * 3_600_000 })];
}

async function listKeys(store: DirObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(`${o.key}:${o.size}`);
  return keys;
}

describe('runOnce on the embedded adapters', () => {
  let ports: EmbeddedLoader;
  let dir: string;
  let bus: LocalLogBus;
  let store: DirObjectStore;
  let catalog: DuckDbCatalog;
  let h: LoaderHarness;

  beforeEach(async () => {
    ports = await embeddedLoader('loader-run');
    ({ dir, bus, store, catalog, h } = ports);
  });
  afterEach(() => ports.close());

  it('loads three hours exactly, with rollups, and a second run changes nothing', async () => {
    const events = threeHours(3000);
    await h.produce(events);
    const first = await runOnce(h.deps);
    expect(first).toMatchObject({ ok: true, events: 3000, duplicates: 0, malformed: 0 });
    expect(first.hours).toEqual(['2026-11-25T09', '2026-11-25T10', '2026-11-25T11']);
    expect(await h.countsByHour()).toEqual(expectedCounts(events));

    const { eventsHourly, visitorsHourly } = h.deps.settings.tables;
    const [rollup] = await h.query(`SELECT sum(events) AS n FROM ${eventsHourly}`);
    expect(Number(rollup?.n)).toBe(3000);
    const [exact] = await h.query(
      `SELECT count(*) AS n FROM (SELECT DISTINCT dt, hour, project_id, visitor_id FROM ${h.deps.settings.tables.events})`,
    );
    const [visitors] = await h.query(`SELECT count(*) AS n, sum(events) AS e FROM ${visitorsHourly}`);
    expect(Number(visitors?.n)).toBe(Number(exact?.n));
    expect(Number(visitors?.e)).toBe(3000);

    const before = await listKeys(store, h.deps.settings.warehousePrefix);
    const second = await runOnce(h.deps);
    expect(second).toMatchObject({ ok: true, events: 0, files: 0 });
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const after = (await listKeys(store, h.deps.settings.warehousePrefix)).filter(
      (k) => !k.includes('_loader/runs/'),
    );
    expect(after).toEqual(before.filter((k) => !k.includes('_loader/runs/')));

    const status = await loaderStatus(h.deps);
    expect(status).toMatchObject({ lag: 0, lastHour: '2026-11-25T11', lock: null, pendingRun: null });
    expect(status.lastRun?.ok).toBe(true);
  });

  it('drops messageIds seen twice, in one run and across runs', async () => {
    const events = threeHours(600, 9);
    await h.produce([...events, ...events.slice(0, 100)]);
    expect(await runOnce(h.deps)).toMatchObject({ events: 600, duplicates: 100 });
    // A retry an hour later, with a new receivedAt (another hour): still the same event.
    const retried = events
      .slice(200, 250)
      .map((e) => ({ ...e, receivedAt: new Date(T0 + 3 * 3_600_000 + 60_000).toISOString() }));
    await h.produce(retried);
    expect(await runOnce(h.deps)).toMatchObject({ events: 0, duplicates: 50 });
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
  });

  it('puts a late event into its old hour as a new file and recomputes that hour’s rollups', async () => {
    const events = threeHours(900, 13);
    await h.produce(events);
    await runOnce(h.deps);
    const late = {
      ...(events[0] as EnrichedEvent),
      messageId: 'late-1',
      receivedAt: new Date(T0 + 10 * 60_000).toISOString(),
    };
    await h.produce([late]);
    const run = await runOnce(h.deps);
    expect(run).toMatchObject({ events: 1, files: 1, hours: ['2026-11-25T09'] });
    expect(await h.countsByHour()).toEqual(expectedCounts([...events, late]));
    const [rollup] = await h.query(
      `SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly} WHERE dt = '2026-11-25' AND hour = '09'`,
    );
    expect(Number(rollup?.n)).toBe(expectedCounts([...events, late])['2026-11-25T09']);
  });

  it('stops at --until and leaves the rest for the next run', async () => {
    const events = threeHours(900, 17);
    await h.produce(events);
    const run = await runOnce(h.deps, { until: parseHour('2026-11-25T10') });
    expect(run.hours).toEqual(['2026-11-25T09', '2026-11-25T10']);
    const all = expectedCounts(events);
    expect(await h.countsByHour()).toEqual({
      '2026-11-25T09': all['2026-11-25T09'],
      '2026-11-25T10': all['2026-11-25T10'],
    });
    await runOnce(h.deps);
    expect(await h.countsByHour()).toEqual(all);
  });

  it('replays an hour with a changed transform: that hour is replaced, the others untouched', async () => {
    const events = threeHours(900, 21);
    await h.produce(events);
    await runOnce(h.deps);
    const table = h.deps.settings.tables.events;
    const untouched = await h.query(
      `SELECT message_id, country FROM ${table} WHERE hour <> '10' ORDER BY message_id`,
    );
    const fixed: LoaderDeps = { ...h.deps, transform: (row) => ({ ...row, country: 'XX' }) };
    const replay = await replayHours(fixed, {
      from: parseHour('2026-11-25T10'),
      to: parseHour('2026-11-25T10'),
    });
    expect(replay).toMatchObject({ ok: true, events: expectedCounts(events)['2026-11-25T10'] });
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const [hour10] = await h.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE country = 'XX') AS xx FROM ${table} WHERE hour = '10'`,
    );
    expect(Number(hour10?.xx)).toBe(Number(hour10?.n));
    expect(
      await h.query(`SELECT message_id, country FROM ${table} WHERE hour <> '10' ORDER BY message_id`),
    ).toEqual(untouched);
    // The old files are gone; late data for that hour now goes to its new location.
    const layout = new WarehouseLayout(h.deps.settings.warehousePrefix);
    const location = await new LoaderState(store, layout, h.deps.settings.topic).eventsLocation(
      parseHour('2026-11-25T10'),
    );
    expect(location).toContain(`/v=${replay.runId}/`);
    const late = {
      ...(events[0] as EnrichedEvent),
      messageId: 'late-after-replay',
      receivedAt: '2026-11-25T10:30:00.000Z',
    };
    await h.produce([late]);
    await runOnce(h.deps);
    expect(await h.countsByHour()).toEqual(expectedCounts([...events, late]));
  });

  it('a run that fails before its commit changes no offset, and the next run is exact', async () => {
    const events = threeHours(1200, 25);
    await h.produce(events.slice(0, 800));
    let failing = true;
    const flaky: Metastore = new Proxy(catalog, {
      get(target, prop, receiver) {
        if (prop === 'addPartitions' && failing) {
          return async () => {
            throw new CatalogError('HiveServer2 is down (test)', { retriable: true, code: 'unavailable' });
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // The failed run spills small files; the re-run writes bigger ones, so most old names are not
    // overwritten: only the pending manifest can remove them.
    const small = { ...h.deps.settings, maxRowsPerFile: 50 };
    await expect(runOnce({ ...h.deps, catalog: flaky, settings: small })).rejects.toThrow(
      /HiveServer2 is down/,
    );
    expect(await bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual([]);
    const status = await loaderStatus(h.deps);
    expect(status.lastRun).toMatchObject({ ok: false, error: 'HiveServer2 is down (test)' });
    expect(status.pendingRun).not.toBeNull();
    expect(status.lock).toBeNull();
    // More events arrive before the re-run, so its ranges (and spills) differ from the failed run's.
    await h.produce(events.slice(800));
    failing = false;
    await runOnce(h.deps);
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    expect((await loaderStatus(h.deps)).pendingRun).toBeNull();
  });

  it('commits nothing when its lock was taken over mid-run (fencing)', async () => {
    await h.produce(threeHours(300, 29));
    const layout = new WarehouseLayout(h.deps.settings.warehousePrefix);
    const stolen: LoaderDeps = {
      ...h.deps,
      progress: {
        consumed() {},
        step(name) {
          if (name !== 'rollups') return;
          const other = {
            owner: 'other',
            purpose: 'run',
            host: 'elsewhere',
            pid: 1,
            acquiredAt: '',
            expiresAt: '2999-01-01T00:00:00Z',
          };
          // Synchronously, so the takeover has happened before the run reaches its commit.
          writeFileSync(join(dir, 'warehouse', layout.lockKey(h.deps.settings.topic)), JSON.stringify(other));
        },
      },
    };
    await expect(runOnce(stolen)).rejects.toBeInstanceOf(LockBusyError);
    expect(await bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual([]);
  });
});
