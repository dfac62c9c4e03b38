/**
 * Compaction killed: the real `loader` process (local log, directory store,
 * DuckDB catalog) SIGKILLed after it uploaded its compacted files and in the
 * middle of its swap. Readers see every event exactly once at each instant,
 * the process that comes next settles what it left (undoes the first,
 * finishes the second), and the hours end with one file each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbCatalog } from '../../shared/catalog/duckdb/duckdb-catalog.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import { produceToLocalBus, runLoaderCli, writeEmbeddedConfig } from '../fixtures/embedded-cli.ts';
import { expectedCounts } from '../fixtures/loader-harness.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { parseHour, WarehouseLayout } from '../layout.ts';
import { LoaderState } from '../loader-state.ts';

const T0 = Date.UTC(2026, 10, 25, 9);

describe('compaction SIGKILLed, then settled by the next process', () => {
  let dir: string;
  let config: string;
  const produced: EnrichedEvent[] = [];
  const cli = (args: string[], env: Record<string, string> = {}) => runLoaderCli(config, args, env);
  const store = () => new DirObjectStore({ root: join(dir, 'wh') });

  async function produce(count: number, seed: number): Promise<void> {
    const events = [...syntheticEvents(count, { seed, startMs: T0, spanMs: 7_200_000 })];
    produced.push(...events);
    await produceToLocalBus(dir, events);
  }

  /** Per hour, rows read through the catalog, distinct ids, and the files at the hour's location. */
  async function warehouse() {
    const s = store();
    const catalog = await DuckDbCatalog.create({
      store: s,
      workDir: join(dir, 'reader'),
      refreshIntervalMs: 0,
    });
    try {
      const rows = await catalog.query(
        'SELECT dt, hour, count(*) AS n, count(DISTINCT message_id) AS ids FROM events GROUP BY dt, hour ORDER BY dt, hour',
      );
      const [rollup] = await catalog.query('SELECT sum(events) AS n FROM events_hourly');
      const state = new LoaderState(s, new WarehouseLayout(''), 'events');
      const files: Record<string, number> = {};
      for (const r of rows) {
        const label = `${r.dt}T${r.hour}`;
        const prefix = await state.eventsLocation(parseHour(label));
        let n = 0;
        for await (const o of s.list(prefix))
          if (!o.key.slice(prefix.length).includes('/') && o.key.endsWith('.parquet')) n++;
        files[label] = n;
      }
      return {
        counts: Object.fromEntries(rows.map((r) => [`${r.dt}T${r.hour}`, Number(r.n)])),
        exact: rows.every((r) => Number(r.n) === Number(r.ids)),
        rollupEvents: Number(rollup?.n),
        files,
      };
    } finally {
      await catalog.close();
    }
  }

  async function expectExact(): Promise<Record<string, number>> {
    const w = await warehouse();
    expect(w.counts).toEqual(expectedCounts(produced));
    expect(w.exact).toBe(true);
    expect(w.rollupEvents).toBe(produced.length);
    return w.files;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-compact-crash-'));
    config = await writeEmbeddedConfig(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('killed after uploading its files: readers never see them, and the next compaction starts over', async () => {
    for (let i = 0; i < 3; i++) {
      await produce(200, 500 + i);
      const run = cli(['run', '--no-compact']);
      expect(run.status, run.stderr).toBe(0);
    }
    expect(Object.values(await expectExact()).every((n) => n >= 4)).toBe(true);

    const crashed = cli(['compact'], { LOADER_CRASH_AT: 'after-compact-write' });
    expect(crashed.signal, crashed.stdout + crashed.stderr).toBe('SIGKILL');
    expect(JSON.parse(cli(['status', '--json']).stdout)).toMatchObject({
      pendingCommand: 'compact (uploading)',
    });
    await expectExact();

    const again = cli(['compact']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('compaction ok: 2 hours');
    expect(await expectExact()).toEqual({ '2026-11-25T09': 1, '2026-11-25T10': 1 });
  }, 120_000);

  it('killed in the middle of its swap: the next run finishes the swap, no hour half old, half new', async () => {
    await produce(150, 600); // late events for both compacted hours
    const run = cli(['run', '--no-compact']);
    expect(run.status, run.stderr).toBe(0);
    expect(await expectExact()).toEqual({ '2026-11-25T09': 3, '2026-11-25T10': 3 });

    const crashed = cli(['compact'], { LOADER_CRASH_AT: 'mid-compact-swap' });
    expect(crashed.signal, crashed.stdout + crashed.stderr).toBe('SIGKILL');
    expect(JSON.parse(cli(['status', '--json']).stdout)).toMatchObject({
      pendingCommand: 'compact (swapping)',
    });
    // The first hour points at its compacted file already, the second still at its old files: both exact.
    expect(await expectExact()).toEqual({ '2026-11-25T09': 1, '2026-11-25T10': 3 });

    const settle = cli(['run']);
    expect(settle.status, settle.stderr).toBe(0);
    expect(settle.stdout).toContain('stopped during its swap: the swap is finished');
    expect(await expectExact()).toEqual({ '2026-11-25T09': 1, '2026-11-25T10': 1 });
  }, 120_000);
});
