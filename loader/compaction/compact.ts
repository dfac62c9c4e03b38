/**
 * @module `loader compact`, and the pass that follows every scheduled load:
 * each closed hour with more than one file is rewritten into few large files
 * sorted by project and time (compact-files.ts), written to a new location
 * `…/hour=HH/v=<id>/`, and swapped in exactly as a replay swaps
 * (steps/swap.ts): the partition points at the new location in one catalog
 * statement, the rollups are recomputed there, the old files and indexes go.
 *
 * Crash rules are the replay's, through the same pending manifest
 * (command `compact`) and repair.ts: every key is listed before it is
 * uploaded; died while `uploading`, the next load deletes the new files
 * (readers never saw them); died while `swapping`, it finishes the swap.
 * It holds the topic's lock, so no load adds a file to an hour while that
 * hour is being swapped; a late event after it lands as a small new file in
 * the new location and queues the hour again (compaction-queue.ts).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Hour, hourLabel } from '../layout.ts';
import { newRunId, withLock } from '../load.ts';
import {
  type CompactionSettings,
  crashIfAt,
  DEFAULT_COMPACTION,
  hotFilesSorted,
  type LoaderDeps,
  layoutOf,
  stateNameOf,
} from '../loader-deps.ts';
import { LoaderState, type PendingManifest } from '../loader-state.ts';
import { lazyLoaderDuckDb } from '../parquet/loader-duckdb.ts';
import { settlePending } from '../repair.ts';
import { ensureTables } from '../steps/register.ts';
import { type HourSwap, swapLocations } from '../steps/swap.ts';
import { inPool } from '../steps/upload.ts';
import { closedHours } from './closed-hours.ts';
import { type CompactedPart, compactFiles } from './compact-files.ts';
import { compactionQueueOf } from './compaction-queue.ts';
import { mergeIndexes } from './merge-indexes.ts';

export interface CompactedHour {
  hour: string;
  filesBefore: number;
  filesAfter: number;
  rows: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface CompactionResult {
  id: string;
  /** Hours rewritten, in order. */
  hours: CompactedHour[];
  /** Closed hours found with one file or none: taken off the queue, nothing to do. */
  alreadyCompact: number;
  /** Queued hours not closed yet. */
  waiting: number;
  /** Why nothing ran, when something stopped it (a crashed run not settled yet). */
  skipped?: string;
  /** What it found of a crashed load and settled first. */
  repaired?: string;
  seconds: number;
}

export interface CompactOptions {
  /** These hours, closed or not (an operator's `--from/--to`); default: the queue's closed hours. */
  hours?: readonly Hour[];
}

export function compactionSettings(deps: LoaderDeps): CompactionSettings {
  return deps.settings.compaction ?? DEFAULT_COMPACTION;
}

interface Candidate {
  hour: Hour;
  from: string;
  files: { key: string; size: number }[];
}

async function dataFilesWithSizes(deps: LoaderDeps, prefix: string): Promise<Candidate['files']> {
  const files: Candidate['files'] = [];
  for await (const info of deps.store.list(prefix)) {
    const rest = info.key.slice(prefix.length);
    if (!rest.includes('/') && rest.endsWith('.parquet')) files.push({ key: info.key, size: info.size });
  }
  return files;
}

export async function compactHours(
  deps: LoaderDeps,
  options: CompactOptions = {},
): Promise<CompactionResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const id = newRunId(started);
  const settings = compactionSettings(deps);
  const layout = layoutOf(deps);
  const result: CompactionResult = { id, hours: [], alreadyCompact: 0, waiting: 0, seconds: 0 };
  await withLock(deps, id, 'compact', async (lock) => {
    await mkdir(deps.settings.tempDir, { recursive: true });
    const dir = await mkdtemp(join(deps.settings.tempDir, 'compact-'));
    const duckdb = lazyLoaderDuckDb({
      memoryLimit: deps.settings.duckdbMemoryLimit,
      threads: deps.settings.duckdbThreads,
      tempDir: dir,
      rowGroupSize: deps.settings.rowGroupSize,
      sortEvents: deps.settings.sortEvents,
    });
    const state = new LoaderState(deps.store, layout, stateNameOf(deps));
    try {
      const settled = await settlePending(deps, state, duckdb, 'compact');
      if (settled.note) result.repaired = settled.note;
      if (settled.carried || (await slotRunUnsettled(deps))) {
        result.skipped = 'a run stopped before its commit; the next run settles it, then compaction goes on';
        return;
      }
      const queue = compactionQueueOf(deps);
      const queued = options.hours ? [...options.hours] : await queue.hours();
      const closed = options.hours ? queued : await closedHours(deps, state, queued, settings.graceMinutes);
      result.waiting = queued.length - closed.length;
      const settledHours: Hour[] = [];
      const picks: Candidate[] = [];
      for (const hour of closed) {
        if (picks.length >= settings.maxHoursPerPass) break;
        const from = await state.eventsLocation(hour);
        const files = await dataFilesWithSizes(deps, from);
        // One file is already compact when compaction wrote it, or when every load sorts its files;
        // a single hot file in bus order (compaction on: hotFilesSorted) still needs its sort.
        const single = files[0];
        if (
          files.length === 0 ||
          (single !== undefined &&
            files.length === 1 &&
            (hotFilesSorted(deps.settings) ||
              layout.isCompactedFileName(single.key.slice(single.key.lastIndexOf('/') + 1))))
        ) {
          settledHours.push(hour);
          result.alreadyCompact++;
          continue;
        }
        picks.push({ hour, from, files });
      }

      const swaps: HourSwap[] = [];
      const keys: string[] = [];
      for (const pick of picks) {
        const to = layout.partitionPrefix('events', pick.hour, id);
        const { parts, hourDir } = await rewriteHour(deps, settings, dir, pick);
        const partKeys = parts.map((p) => `${to}${p.name}`);
        const indexKey = layout.indexKeyOf(partKeys[0] as string);
        keys.push(...partKeys, indexKey);
        swaps.push({ hour: pick.hour, from: pick.from, to });
        // Listed before anything is uploaded: a crash from here on is undone by the next load.
        await state.writePending(manifest(id, keys, swaps, 'uploading'));
        await inPool(
          parts.map((p, i) => ({ path: p.path, key: partKeys[i] as string })),
          deps.settings.uploadConcurrency,
          ({ path, key }) => deps.store.put(key, createReadStream(path)),
        );
        // A compacted location holds one index, beside part-0 (its later parts have none of their own).
        const indexed = pick.files.filter((f) => !/\/part-[1-9]\d*\.parquet$/.test(f.key));
        const index = await mergeIndexes(
          deps.store,
          indexed.map((f) => layout.indexKeyOf(f.key)),
        );
        if (index.missing.length > 0)
          deps.logger.warn(
            { hour: hourLabel(pick.hour), missing: index.missing },
            'compaction: files without a dedup index',
          );
        await deps.store.put(indexKey, index.body);
        await rm(hourDir, { recursive: true, force: true });
        result.hours.push({
          hour: hourLabel(pick.hour),
          filesBefore: pick.files.length,
          filesAfter: parts.length,
          rows: parts.reduce((n, p) => n + p.rows, 0),
          bytesBefore: pick.files.reduce((n, f) => n + f.size, 0),
          bytesAfter: parts.reduce((n, p) => n + p.bytes, 0),
        });
      }
      crashIfAt(deps, 'after-compact-write');
      if (swaps.length > 0) {
        await ensureTables(deps);
        await lock.renew(); // fencing: a lost lease stops it before it swaps anything
        // From here on the compaction is finished, never undone: every new file is uploaded.
        await state.writePending(manifest(id, keys, swaps, 'swapping'));
        await swapLocations(deps, state, duckdb, swaps, 'mid-compact-swap');
        await state.clearPending();
      }
      await queue.remove([...settledHours, ...picks.map((p) => p.hour)]);
      for (const h of result.hours) deps.logger.info({ compaction: id, ...h }, 'compacted hour');
    } finally {
      await duckdb.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  result.seconds = (now() - started) / 1000;
  return result;
}

/**
 * Scaled out, each slot's run has its own pending manifest: one left by a
 * crashed run means files the slot's next run may replace, so the hours wait.
 */
async function slotRunUnsettled(deps: LoaderDeps): Promise<boolean> {
  const layout = layoutOf(deps);
  for (const { state } of deps.scope?.slotStates ?? []) {
    if (await new LoaderState(deps.store, layout, state).pending()) return true;
  }
  return false;
}

function manifest(
  id: string,
  keys: string[],
  swaps: HourSwap[],
  phase: 'uploading' | 'swapping',
): PendingManifest {
  return { runId: id, command: 'compact', keys: [...keys], hours: swaps.map((s) => s.hour), swaps, phase };
}

/** Downloads an hour's files and rewrites them in `hourDir`, which the caller removes once the parts are uploaded. */
async function rewriteHour(
  deps: LoaderDeps,
  settings: CompactionSettings,
  dir: string,
  pick: Candidate,
): Promise<{ parts: CompactedPart[]; hourDir: string }> {
  const hourDir = await mkdtemp(join(dir, 'hour-'));
  const outDir = join(hourDir, 'out');
  await mkdir(outDir);
  const inputs = pick.files.map((_, i) => join(hourDir, `in-${i}.parquet`));
  try {
    await inPool(
      pick.files.map((f, i) => ({ key: f.key, path: inputs[i] as string })),
      deps.settings.uploadConcurrency,
      async ({ key, path }) => {
        const body = await deps.store.getStream(key);
        if (!body) throw new Error(`${key} vanished while its hour was compacted`);
        await pipeline(body, createWriteStream(path));
      },
    );
    const parts = await compactFiles({
      inputs,
      outDir,
      nameOf: (n) => layoutOf(deps).compactedFileName(n),
      maxRowsPerFile: settings.maxRowsPerFile,
      maxFileBytes: settings.maxFileBytes,
      rowGroupSize: deps.settings.rowGroupSize,
      memoryLimit: deps.settings.duckdbMemoryLimit,
      threads: deps.settings.duckdbThreads,
      tempDir: hourDir,
    });
    return { parts, hourDir };
  } finally {
    for (const path of inputs) await rm(path, { force: true });
  }
}
