/**
 * @module Step "rollups": for each touched hour, events_hourly and
 * visitors_hourly are recomputed from ALL of that hour's events files (not
 * just this run's), so late data, re-runs and replays leave them exact. One
 * object per hour and table, overwritten whole: a put is atomic, so readers
 * see the old rollup or the new one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
    const eventsKey = layout.rollupKey('events_hourly', hour);
    const visitorsKey = layout.rollupKey('visitors_hourly', hour);
    if (keys.length === 0) {
      await deps.store.delete([eventsKey, visitorsKey]);
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
      const out = {
        eventsHourly: join(dir, 'events_hourly.parquet'),
        visitorsHourly: join(dir, 'visitors_hourly.parquet'),
      };
      const counts = await duckdb.rollups(local, out);
      rows += counts.eventsHourly + counts.visitorsHourly;
      await deps.store.put(eventsKey, createReadStream(out.eventsHourly));
      await deps.store.put(visitorsKey, createReadStream(out.visitorsHourly));
      written.push(hour);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await registerHours(deps, 'events_hourly', written, (h) => layout.partitionPrefix('events_hourly', h));
  await registerHours(deps, 'visitors_hourly', written, (h) => layout.partitionPrefix('visitors_hourly', h));
  return { rows };
}
