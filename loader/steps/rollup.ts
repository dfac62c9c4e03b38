/**
 * @module Step "rollups": for each touched hour, every rollup table
 * (shared/warehouse.ts ROLLUP_TABLES: events_hourly, visitors_hourly,
 * sessions_hourly, dimensions_hourly; their SQL in rollup-sql.ts) is
 * recomputed from ALL of that hour's events files (not just this run's), so
 * late data, re-runs and replays leave them exact. One object per hour and
 * table, overwritten whole: a put is atomic, so readers see the old rollup or
 * the new one.
 *
 * Scaled out (scale-out/), several processes load partitions of one hour:
 * each recomputes it under that hour's lock, after its own upload, so the
 * last one to compute read every file uploaded before it, and an hour's
 * rollups never go back to a listing that missed another slot's files. The
 * wait for that lock is bounded (`rollupLockWaitMs`): past it the hour is
 * returned as deferred, and the caller leaves it to the slot's next load
 * (scale-out/deferred-rollups.ts) rather than stall the load behind a
 * holder that hangs or died on another host.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROLLUP_TABLES, type RollupTable } from '../../shared/warehouse.ts';
import { type Hour, hourLabel } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import { acquireLock, type HeldLock, LockBusyError } from '../object-store-lock.ts';
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

/** Default bound on the wait for an hour's rollup lock (scaled out). */
const ROLLUP_LOCK_WAIT_MS = 120_000;

export async function writeRollups(
  deps: LoaderDeps,
  duckdb: LoaderDuckDb,
  hours: Iterable<Hour>,
  locate: (hour: Hour) => Promise<string>,
): Promise<{ rows: number; deferred: Hour[] }> {
  const layout = layoutOf(deps);
  let rows = 0;
  const written: Hour[] = [];
  const deferred: Hour[] = [];
  await mkdir(deps.settings.tempDir, { recursive: true });
  for (const hour of hours) {
    const lock = await hourLock(deps, hour);
    if (lock === 'busy') {
      deferred.push(hour);
      continue;
    }
    try {
      if (await rollupHour(deps, duckdb, hour, locate, lock, (n) => (rows += n))) written.push(hour);
    } finally {
      await lock?.release().catch((err: unknown) => deps.logger.warn({ err }, 'hour lock release failed'));
    }
  }
  for (const table of ROLLUP_TABLES) {
    await registerHours(deps, table, written, (h) => layout.partitionPrefix(table, h));
  }
  return { rows, deferred };
}

/**
 * The hour's rollup lock when loads are scaled out, waited for while another process holds
 * it, up to `rollupLockWaitMs`; then 'busy'. Null when not scaled out (no lock needed).
 */
async function hourLock(deps: LoaderDeps, hour: Hour): Promise<HeldLock | null | 'busy'> {
  const name = deps.scope?.hourLocks;
  if (!name) return null;
  const key = layoutOf(deps).lockKey(`${name}/${hourLabel(hour)}`);
  const owner = `rollup-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const waitMs = deps.settings.rollupLockWaitMs ?? ROLLUP_LOCK_WAIT_MS;
  const deadline = Date.now() + waitMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await acquireLock(deps.store, key, {
        owner,
        purpose: 'rollups',
        ttlMs: deps.settings.lockTtlMs,
        ...(deps.now ? { now: deps.now } : {}),
      });
    } catch (err) {
      // Another slot's rollups of this hour: seconds at most, and ours must come after them.
      if (!(err instanceof LockBusyError)) throw err;
      if (Date.now() >= deadline) {
        deps.logger.warn(
          { hour: hourLabel(hour), waitedMs: waitMs, holder: err.holder },
          "an hour's rollup lock stayed busy: its rollups are left to this slot's next load",
        );
        return 'busy';
      }
      await sleep(Math.min(wait, Math.max(1, deadline - Date.now())));
    }
  }
}

/** Recomputes one hour's rollups; false when the hour has no data (its rollups are removed). */
async function rollupHour(
  deps: LoaderDeps,
  duckdb: LoaderDuckDb,
  hour: Hour,
  locate: (hour: Hour) => Promise<string>,
  lock: HeldLock | null,
  count: (rows: number) => void,
): Promise<boolean> {
  const layout = layoutOf(deps);
  const keys = await dataFilesAt(deps, await locate(hour));
  const rollupKeys = ROLLUP_TABLES.map((table) => layout.rollupKey(table, hour));
  if (keys.length === 0) {
    await lock?.renew();
    await deps.store.delete(rollupKeys);
    return false;
  }
  const dir = await mkdtemp(join(deps.settings.tempDir, 'rollup-'));
  try {
    const local = keys.map((_, i) => join(dir, `${i}.parquet`));
    const vanished = new Set<string>();
    await inPool(
      keys.map((key, i) => ({ key, path: local[i] as string })),
      deps.settings.uploadConcurrency,
      async ({ key, path }) => {
        // Streamed to disk: an hour's files run to ~95 MB each, several at once.
        const body = await deps.store.getStream(key);
        // Scaled out, another slot's repair may delete its crashed run's stale file between our
        // listing and this read; that slot recomputes the hour after it, so leaving it out is right.
        if (!body && deps.scope?.hourLocks) vanished.add(path);
        else if (!body) throw new Error(`${key} vanished while its hour's rollups were computed`);
        else await pipeline(body, createWriteStream(path));
      },
    );
    const out = Object.fromEntries(
      ROLLUP_TABLES.map((table) => [table, join(dir, `${table}.parquet`)]),
    ) as Record<RollupTable, string>;
    const counts = await duckdb.rollups(
      local.filter((p) => !vanished.has(p)),
      out,
    );
    // Fencing: a lease lost while this process stalled means another one may have written since.
    await lock?.renew();
    for (const [i, table] of ROLLUP_TABLES.entries()) {
      count(counts[table]);
      await deps.store.put(rollupKeys[i] as string, createReadStream(out[table]));
    }
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
