/**
 * @module Step "rollups": for each touched hour, every rollup table
 * (shared/warehouse.ts ROLLUP_TABLES: events_hourly, visitors_hourly,
 * sessions_hourly, dimensions_hourly; their SQL in rollup-sql.ts) is
 * recomputed from ALL of that hour's events files (not just this run's), so
 * late data, re-runs and replays leave them exact. One object per hour and
 * table, overwritten whole: a put is atomic, so readers see the old rollup or
 * the new one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ROLLUP_TABLES, type RollupTable } from '../../shared/warehouse.ts';
import type { Hour } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import type { LoaderDuckDb } from '../parquet/loader-duckdb.ts';
import { registerHours } from './register.ts';
import { inPool } from './upload.ts';

/** The Parquet data files directly under an hour's location (not a replay's versions below it). */
export async function dataFilesAt(deps: LoaderDeps, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of deps.store.list(prefix)) {
    const rest = info.key.slice(prefix.length);
    if (!rest.includes('/') && rest.endsWith('.parquet')) keys.push(info.key);
  }
  return keys;
}

export async function writeRollups(
  deps: LoaderDeps,
  duckdb: LoaderDuckDb,
  hours: Iterable<Hour>,
  locate: (hour: Hour) => Promise<string>,
): Promise<{ rows: number }> {
  const layout = layoutOf(deps);
  let rows = 0;
  const written: Hour[] = [];
  await mkdir(deps.settings.tempDir, { recursive: true });
  for (const hour of hours) {
    const keys = await dataFilesAt(deps, await locate(hour));
    const rollupKeys = ROLLUP_TABLES.map((table) => layout.rollupKey(table, hour));
    if (keys.length === 0) {
      await deps.store.delete(rollupKeys);
      continue;
    }
    const dir = await mkdtemp(join(deps.settings.tempDir, 'rollup-'));
    try {
      const local = keys.map((_, i) => join(dir, `${i}.parquet`));
      await inPool(
        keys.map((key, i) => ({ key, path: local[i] as string })),
        deps.settings.uploadConcurrency,
        async ({ key, path }) => {
          // Streamed to disk: an hour's files run to ~95 MB each, several at once.
          const body = await deps.store.getStream(key);
          if (!body) throw new Error(`${key} vanished while its hour's rollups were computed`);
          await pipeline(body, createWriteStream(path));
        },
      );
      const out = Object.fromEntries(
        ROLLUP_TABLES.map((table) => [table, join(dir, `${table}.parquet`)]),
      ) as Record<RollupTable, string>;
      const counts = await duckdb.rollups(local, out);
      for (const [i, table] of ROLLUP_TABLES.entries()) {
        rows += counts[table];
        await deps.store.put(rollupKeys[i] as string, createReadStream(out[table]));
      }
      written.push(hour);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  for (const table of ROLLUP_TABLES) {
    await registerHours(deps, table, written, (h) => layout.partitionPrefix(table, h));
  }
  return { rows };
}
