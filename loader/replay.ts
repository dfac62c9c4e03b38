/**
 * @module `loader replay --from --to`: re-loads whole hours from the bus
 * after a fix, without readers ever seeing half of it. The offsets come from
 * the bus by timestamp: from the start of the first hour (less a small clock
 * skew allowance) to `replayLateHours` past the last one, never beyond what
 * the regular run has committed (later messages are the next run's). Events
 * of the replayed hours go to a new location, `…/hour=HH/v=<runId>/`; then
 * each partition is pointed there in one catalog statement and the old files
 * are deleted. Offsets are not touched.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../shared/errors.ts';
import { HOUR_MS, type Hour, hourLabel } from './layout.ts';
import { type LoaderDeps, layoutOf } from './loader-deps.ts';
import { LoaderState, newRunResult, type RunResult } from './loader-state.ts';
import { openLoaderDuckDb } from './parquet/loader-duckdb.ts';
import { newRunId, stepTracker, withLock } from './run-once.ts';
import { consumeRanges } from './steps/consume.ts';
import { Deduplicator } from './steps/dedup.ts';
import type { PartitionRange } from './steps/plan.ts';
import { ensureTables, partitionSpec, tableDefs } from './steps/register.ts';
import { dataFilesAt, writeRollups } from './steps/rollup.ts';
import { plannedKeys, uploadFiles } from './steps/upload.ts';
import { HourBuckets } from './steps/write.ts';

/** Edge clocks may run a little ahead of the broker's: start this much before the first hour. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** More hours than this in one replay is almost certainly a typo. */
const MAX_REPLAY_HOURS = 24 * 31;

export interface ReplayOptions {
  from: Hour;
  to: Hour;
}

async function replayRanges(deps: LoaderDeps, options: ReplayOptions): Promise<PartitionRange[]> {
  const { bus, settings } = deps;
  const fromMs = options.from * HOUR_MS - CLOCK_SKEW_MS;
  const toMs = (options.to + 1 + settings.replayLateHours) * HOUR_MS;
  const [marks, committed, starts, ends] = await Promise.all([
    bus.watermarks(settings.topic),
    bus.committed(settings.group, settings.topic),
    bus.offsetsForTime(settings.topic, fromMs),
    bus.offsetsForTime(settings.topic, toMs),
  ]);
  const at = (list: { partition: number; offset: number }[], p: number) =>
    list.find((x) => x.partition === p)?.offset;
  return marks.map((m) => {
    const done = at(committed, m.partition) ?? m.low;
    const from = Math.max(m.low, at(starts, m.partition) ?? m.high);
    const to = Math.min(done, at(ends, m.partition) ?? m.high);
    return { partition: m.partition, from: Math.min(from, to), to };
  });
}

export async function replayHours(deps: LoaderDeps, options: ReplayOptions): Promise<RunResult> {
  if (options.to < options.from) {
    throw new InputError(`--to ${hourLabel(options.to)} is before --from ${hourLabel(options.from)}`, {
      status: 400,
      code: 'bad_range',
    });
  }
  if (options.to - options.from + 1 > MAX_REPLAY_HOURS) {
    throw new InputError(`a replay covers at most ${MAX_REPLAY_HOURS} hours; split the range`, {
      status: 400,
      code: 'bad_range',
    });
  }
  const now = deps.now ?? Date.now;
  const started = now();
  const runId = newRunId(started);
  const layout = layoutOf(deps);
  const state = new LoaderState(deps.store, layout, deps.settings.topic);
  const hours = new Set<Hour>();
  for (let h = options.from; h <= options.to; h++) hours.add(h);
  const result = newRunResult(runId, 'replay', started, [...hours].map(hourLabel));
  await withLock(deps, runId, `replay ${hourLabel(options.from)}..${hourLabel(options.to)}`, async (lock) => {
    if (await state.pending()) {
      throw new InputError('the last run crashed before committing; run `loader run` first, then replay', {
        status: 409,
        code: 'pending_run',
      });
    }
    await mkdir(deps.settings.tempDir, { recursive: true });
    const dir = await mkdtemp(join(deps.settings.tempDir, 'replay-'));
    const duckdb = await openLoaderDuckDb({
      memoryLimit: deps.settings.duckdbMemoryLimit,
      threads: deps.settings.duckdbThreads,
      tempDir: dir,
      rowGroupSize: deps.settings.rowGroupSize,
      sortEvents: deps.settings.sortEvents,
    });
    try {
      const steps = stepTracker(result, deps.progress);
      const newPrefix = (h: Hour) => layout.partitionPrefix('events', h, runId);
      const dedup = new Deduplicator({
        store: deps.store,
        layout,
        horizonHours: deps.settings.dedupHorizonHours,
        locate: (h) => state.eventsLocation(h),
        excludeKeys: new Set(),
        skipHours: hours,
        logger: deps.logger,
      });
      const buckets = new HourBuckets({
        dir,
        duckdb,
        maxRowsPerFile: deps.settings.maxRowsPerFile,
        convertConcurrency: deps.settings.convertConcurrency,
      });
      steps.enter('consume');
      const ranges = await replayRanges(deps, options);
      const consumed = await consumeRanges(deps, { ranges, dedup, buckets, onlyHours: hours });
      await buckets.closeAll();
      const targets = await plannedKeys(deps, buckets.written, async (h) => newPrefix(h));
      steps.enter('upload');
      await uploadFiles(deps, buckets.written, targets);

      steps.enter('register');
      await ensureTables(deps);
      await lock.renew(); // fencing: a lost lease stops the replay before it swaps anything
      const oldPrefixes = new Map<Hour, string>();
      for (const h of hours) oldPrefixes.set(h, await state.eventsLocation(h));
      // The swap: one statement per partition, so a reader sees the old hour or the new one, never a mix.
      for (const h of hours) {
        await deps.catalog.setPartitionLocation(
          tableDefs(deps).events.name,
          partitionSpec(deps, h, newPrefix(h)),
        );
        await state.setEventsLocation(h, newPrefix(h));
      }
      steps.enter('rollups');
      await writeRollups(deps, duckdb, [...hours], async (h) => newPrefix(h));
      steps.enter('cleanup');
      for (const [h, old] of oldPrefixes) await deleteOldLocation(deps, h, old);
      steps.done();

      result.events = consumed.written;
      result.duplicates = dedup.duplicates;
      result.malformed = consumed.malformed;
      result.files = targets.length;
      result.bytes = targets.reduce((n, t) => n + t.bytes, 0);
    } finally {
      duckdb.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  result.ok = true;
  result.finishedAt = new Date(now()).toISOString();
  result.seconds = (now() - started) / 1000;
  return result;
}

/** Removes an hour's previous files and their indexes (only that location's own, never a newer version below it). */
async function deleteOldLocation(deps: LoaderDeps, hour: Hour, prefix: string): Promise<void> {
  const layout = layoutOf(deps);
  const data = await dataFilesAt(deps, prefix);
  const indexes = data.map((k) => layout.indexKeyOf(k));
  if (data.length > 0) await deps.store.delete([...data, ...indexes]);
  deps.logger.info({ hour: hourLabel(hour), files: data.length, prefix }, 'replay: old files deleted');
}
