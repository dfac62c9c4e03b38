/**
 * Compaction on the embedded adapters (local log, directory store, DuckDB
 * catalog): an hour loaded over several runs becomes one sorted file with
 * the same rows, the same rollups and a dedup index that still catches
 * duplicates; a late event makes a second file that the next compaction
 * folds in; an hour that is not closed waits; a large hour is cut into parts
 * within the row limit, in order.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../../shared/event.ts';
import { loaderConfigSchema } from '../config.ts';
import { type EmbeddedLoader, embeddedLoader } from '../fixtures/embedded-ports.ts';
import { expectedCounts } from '../fixtures/loader-harness.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { type Hour, parseHour } from '../layout.ts';
import { DEFAULT_COMPACTION, type LoaderDeps, layoutOf } from '../loader-deps.ts';
import { LoaderState } from '../loader-state.ts';
import { runOnce } from '../run-once.ts';
import { startLoader } from '../start.ts';
import { dataFilesAt } from '../steps/rollup.ts';
import { compactHours } from './compact.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);
const H09 = parseHour('2026-11-25T09');
const H10 = parseHour('2026-11-25T10');

function eventsIn(count: number, seed: number, startMs: number, spanMs: number): EnrichedEvent[] {
  return [...syntheticEvents(count, { seed, startMs, spanMs })];
}

describe('compaction on the embedded adapters', () => {
  let ports: EmbeddedLoader;

  beforeEach(async () => {
    ports = await embeddedLoader('loader-compact');
  });
  afterEach(() => ports.close());

  const filesOf = async (deps: LoaderDeps, hour: Hour) => {
    const state = new LoaderState(deps.store, layoutOf(deps), deps.settings.topic);
    return dataFilesAt(deps, await state.eventsLocation(hour));
  };
  const rowsOf = (table: string) =>
    ports.h.query(`SELECT * EXCLUDE (dt, hour), dt, hour FROM ${table} ORDER BY message_id`) as Promise<
      Record<string, unknown>[]
    >;
  const rollupsOf = async () => {
    const { eventsHourly, visitorsHourly } = ports.h.deps.settings.tables;
    return {
      events: await ports.h.query(`SELECT * FROM ${eventsHourly} ORDER BY dt, hour, project_id, event`),
      visitors: await ports.h.query(
        `SELECT * FROM ${visitorsHourly} ORDER BY dt, hour, project_id, visitor_id`,
      ),
    };
  };
  /** The (project_id, event_time) of a file's rows in file order. */
  const fileOrder = async (key: string) => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const path = `${ports.dir}/warehouse/${key}`;
      const rows = (
        await conn.runAndReadAll(
          `SELECT project_id, epoch_us(event_time)::VARCHAR FROM read_parquet('${path}')`,
        )
      ).getRows();
      return rows.map(([p, t]) => `${p}|${String(t).padStart(20, '0')}`);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  };

  it('rewrites an hour loaded over several runs into one sorted file with the same rows and rollups; a late event is folded in by the next compaction', async () => {
    const { h } = ports;
    const table = h.deps.settings.tables.events;
    const all: EnrichedEvent[] = [];
    // Four runs, each with events of both hours: 2 partitions × 4 runs = up to 8 files per hour.
    for (let run = 0; run < 4; run++) {
      const batch = eventsIn(300, 40 + run, T0, 2 * 3_600_000);
      all.push(...batch);
      await h.produce(batch);
      expect(await runOnce(h.deps)).toMatchObject({ ok: true, events: 300 });
    }
    const before = await rowsOf(table);
    const rollupsBefore = await rollupsOf();
    const filesBefore = [(await filesOf(h.deps, H09)).length, (await filesOf(h.deps, H10)).length];
    expect(filesBefore[0]).toBeGreaterThan(4);
    expect(filesBefore[1]).toBeGreaterThan(4);
    const oldKeys = [...(await filesOf(h.deps, H09)), ...(await filesOf(h.deps, H10))];

    const result = await compactHours(h.deps);
    expect(result.hours.map((x) => [x.hour, x.filesBefore, x.filesAfter])).toEqual([
      ['2026-11-25T09', filesBefore[0], 1],
      ['2026-11-25T10', filesBefore[1], 1],
    ]);
    const counts = expectedCounts(all);
    expect(result.hours.map((x) => x.rows)).toEqual([counts['2026-11-25T09'], counts['2026-11-25T10']]);

    // Same rows, same values, same rollups; one file per hour, sorted by project and time.
    expect(await h.countsByHour()).toEqual(counts);
    expect(await rowsOf(table)).toEqual(before);
    expect(await rollupsOf()).toEqual(rollupsBefore);
    for (const hour of [H09, H10]) {
      const files = await filesOf(h.deps, hour);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\/v=[^/]+\/part-0\.parquet$/);
      const order = await fileOrder(files[0] as string);
      expect(order).toEqual([...order].sort());
    }
    // The old files and their indexes are gone.
    for (const key of oldKeys) {
      expect(await h.deps.store.get(key)).toBeNull();
      expect(await h.deps.store.get(layoutOf(h.deps).indexKeyOf(key))).toBeNull();
    }
    // The merged index still catches a retry of an event of the compacted hour.
    await h.produce([all[7] as EnrichedEvent]);
    expect(await runOnce(h.deps)).toMatchObject({ events: 0, duplicates: 1 });
    // Nothing left to do: a second pass changes nothing.
    expect((await compactHours(h.deps)).hours).toEqual([]);

    // A late event lands as a small second file in the compacted location; the next compaction folds it in.
    const late = {
      ...(all[0] as EnrichedEvent),
      messageId: 'late-1',
      receivedAt: new Date(T0 + 60_000).toISOString(),
    };
    await h.produce([late]);
    expect(await runOnce(h.deps)).toMatchObject({ events: 1, files: 1, hours: ['2026-11-25T09'] });
    expect(await filesOf(h.deps, H09)).toHaveLength(2);
    const again = await compactHours(h.deps);
    expect(again.hours.map((x) => [x.hour, x.filesBefore, x.filesAfter, x.rows])).toEqual([
      ['2026-11-25T09', 2, 1, (counts['2026-11-25T09'] as number) + 1],
    ]);
    expect(await filesOf(h.deps, H09)).toHaveLength(1);
    expect(await h.countsByHour()).toEqual(expectedCounts([...all, late]));
    const [rollup] = await h.query(
      `SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly} WHERE dt = '2026-11-25' AND hour = '09'`,
    );
    expect(Number(rollup?.n)).toBe((counts['2026-11-25T09'] as number) + 1);
  });

  it('runs after each load of the scheduled loader, in the background, and counts what it did in the metrics', async () => {
    const { h, bus, store, catalog } = ports;
    const { settings } = h.deps;
    const config = loaderConfigSchema.parse({
      topic: settings.topic,
      group: settings.group,
      warehousePrefix: settings.warehousePrefix,
      tables: settings.tables,
      tempDir: settings.tempDir,
      logLevel: 'silent',
    });
    const loader = await startLoader(config, { ports: { bus, store, catalog }, schedule: false });
    try {
      await h.produce(eventsIn(200, 90, T0, 3_000_000));
      expect(await loader.runNow()).toMatchObject({ ok: true, events: 200, files: 2 });
    } finally {
      await loader.stop(); // waits for the compaction the load started
    }
    expect(await filesOf(h.deps, H09)).toHaveLength(1);
    const metrics = await loader.metrics.registry.getMetricsAsJSON();
    const value = (name: string, side?: string) =>
      metrics
        .find((m) => m.name === name)
        ?.values.filter((v) => side === undefined || v.labels.side === side)
        .reduce((n, v) => n + Number(v.value), 0);
    expect(value('loader_compacted_hours_total')).toBe(1);
    expect(value('loader_compaction_rows_total')).toBe(200);
    expect(value('loader_compaction_files_total', 'before')).toBe(2);
    expect(value('loader_compaction_files_total', 'after')).toBe(1);
  });

  it('leaves an hour that is not closed yet, and compacts it once every partition is loaded past its end and the grace period', async () => {
    const { h } = ports;
    for (let run = 0; run < 2; run++) {
      await h.produce(eventsIn(200, 60 + run, T0 + 3_600_000, 3_000_000)); // 10:00–10:50
      await runOnce(h.deps);
    }
    // 10:55: the hour has not ended.
    const early = await compactHours({ ...h.deps, now: () => T0 + 3_600_000 + 55 * 60_000 });
    expect(early).toMatchObject({ hours: [], waiting: 1 });
    // 11:05: ended, but within the 10-minute grace.
    const inGrace = await compactHours({ ...h.deps, now: () => T0 + 2 * 3_600_000 + 5 * 60_000 });
    expect(inGrace).toMatchObject({ hours: [], waiting: 1 });
    // 11:30, and an event stamped 10:58 is on the bus but not loaded: its partition has not passed 11:10.
    await h.produce(eventsIn(1, 70, T0 + 3_600_000 + 58 * 60_000, 1));
    const at1130 = () => T0 + 2 * 3_600_000 + 30 * 60_000;
    expect(await compactHours({ ...h.deps, now: at1130 })).toMatchObject({ hours: [], waiting: 1 });
    // Loaded: now it is closed.
    await runOnce(h.deps);
    const closed = await compactHours({ ...h.deps, now: at1130 });
    expect(closed.hours.map((x) => [x.hour, x.rows])).toEqual([['2026-11-25T10', 401]]);
    expect(closed.waiting).toBe(0);
  });

  it('cuts a large hour into parts within the row limit, each sorted, in order across parts', async () => {
    const { h } = ports;
    const deps: LoaderDeps = {
      ...h.deps,
      settings: { ...h.deps.settings, compaction: { ...DEFAULT_COMPACTION, maxRowsPerFile: 400 } },
    };
    const all: EnrichedEvent[] = [];
    for (let run = 0; run < 3; run++) {
      const batch = eventsIn(350, 80 + run, T0, 3_000_000);
      all.push(...batch);
      await h.produce(batch);
      await runOnce(deps);
    }
    const before = await rowsOf(h.deps.settings.tables.events);
    const result = await compactHours(deps);
    expect(result.hours).toMatchObject([{ hour: '2026-11-25T09', filesAfter: 3, rows: 1050 }]);
    const files = (await filesOf(deps, H09)).sort();
    expect(files.map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual([
      'part-0.parquet',
      'part-1.parquet',
      'part-2.parquet',
    ]);
    const orders = await Promise.all(files.map(fileOrder));
    for (const order of orders) expect(order.length).toBeLessThanOrEqual(400);
    const joined = orders.flat();
    expect(joined).toEqual([...joined].sort());
    expect(await rowsOf(h.deps.settings.tables.events)).toEqual(before);
    expect(await h.countsByHour()).toEqual(expectedCounts(all));

    // One index for all parts: a retry is dropped, and so after a second pass that folds in a late event.
    await h.produce([all[900] as EnrichedEvent]);
    expect(await runOnce(deps)).toMatchObject({ events: 0, duplicates: 1 });
    const late = {
      ...(all[0] as EnrichedEvent),
      messageId: 'late-2',
      receivedAt: new Date(T0 + 120_000).toISOString(),
    };
    await h.produce([late]);
    await runOnce(deps);
    expect((await compactHours(deps)).hours).toMatchObject([{ filesBefore: 4, filesAfter: 3, rows: 1051 }]);
    await h.produce([all[20] as EnrichedEvent, all[1000] as EnrichedEvent, late]);
    expect(await runOnce(deps)).toMatchObject({ events: 0, duplicates: 3 });
    expect(await h.countsByHour()).toEqual(expectedCounts([...all, late]));
  });
});
