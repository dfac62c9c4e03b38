/**
 * @module `loader run`: one pass, plan → consume → dedup → write → upload →
 * register → rollups → commit, under the object-store lock. Exactly once:
 * offsets are committed last, file names derive from offsets, and whatever a
 * crashed run left that a re-run does not overwrite is listed in the pending
 * manifest and deleted before anything is registered.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Hour, hourLabel } from './layout.ts';
import { crashIfAt, type LoaderDeps, type LoadProgress, layoutOf } from './loader-deps.ts';
import { LoaderState, newRunResult, type RunResult } from './loader-state.ts';
import { acquireLock, type HeldLock } from './object-store-lock.ts';
import { openLoaderDuckDb } from './parquet/loader-duckdb.ts';
import { commitOffsets } from './steps/commit.ts';
import { type ConsumeResult, consumeRanges, type DeadLetter } from './steps/consume.ts';
import { Deduplicator } from './steps/dedup.ts';
import { planRanges } from './steps/plan.ts';
import { ensureTables, registerHours } from './steps/register.ts';
import { writeRollups } from './steps/rollup.ts';
import { plannedKeys, uploadFiles } from './steps/upload.ts';
import { HourBuckets } from './steps/write.ts';

export interface RunOptions {
  /** Load nothing received after this hour; the rest waits for the next run. */
  until?: Hour;
}

export function newRunId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${randomBytes(3).toString('hex')}`;
}

/** Holds the topic's lock while `work` runs, renewing it well within its TTL. */
export async function withLock<T>(
  deps: LoaderDeps,
  owner: string,
  purpose: string,
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const layout = layoutOf(deps);
  const lock = await acquireLock(deps.store, layout.lockKey(deps.settings.topic), {
    owner,
    purpose,
    ttlMs: deps.settings.lockTtlMs,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const renewal = setInterval(
    () => {
      lock.renew().catch((err: unknown) => deps.logger.error({ err }, 'lock renewal failed'));
    },
    Math.max(1000, deps.settings.lockTtlMs / 3),
  );
  renewal.unref();
  try {
    return await work(lock);
  } finally {
    clearInterval(renewal);
    await lock.release().catch((err: unknown) => deps.logger.warn({ err }, 'lock release failed'));
  }
}

/** Tells the progress reporter which step runs, and records each step's seconds in the result. */
export function stepTracker(
  result: RunResult,
  progress?: LoadProgress,
): { enter(name: string): void; done(): void } {
  let current: string | undefined;
  let since = performance.now();
  const close = () => {
    if (current) result.steps[current] = Math.round(performance.now() - since) / 1000;
    current = undefined;
  };
  return {
    enter(name) {
      close();
      current = name;
      since = performance.now();
      progress?.step(name);
    },
    done: close,
  };
}

export function deadLetterFiles(deps: LoaderDeps, letters: DeadLetter[]): { key: string; body: string }[] {
  const layout = layoutOf(deps);
  const byPartition = new Map<number, DeadLetter[]>();
  for (const d of letters) byPartition.set(d.partition, [...(byPartition.get(d.partition) ?? []), d]);
  return [...byPartition].map(([partition, list]) => ({
    key: layout.deadLetterKey(deps.settings.topic, partition, (list[0] as DeadLetter).offset),
    body: `${list.map((d) => JSON.stringify(d)).join('\n')}\n`,
  }));
}

export async function runOnce(deps: LoaderDeps, options: RunOptions = {}): Promise<RunResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const runId = newRunId(started);
  const layout = layoutOf(deps);
  const state = new LoaderState(deps.store, layout, deps.settings.topic);
  const log = deps.logger.child({ runId });
  const result = newRunResult(runId, 'run', started, []);
  const finish = async (error?: unknown): Promise<RunResult> => {
    result.finishedAt = new Date(now()).toISOString();
    result.seconds = (now() - started) / 1000;
    if (error !== undefined) result.error = error instanceof Error ? error.message : String(error);
    await state
      .writeLastRun(result)
      .catch((err: unknown) => log.warn({ err }, 'could not record the run result'));
    return result;
  };
  try {
    await withLock(deps, runId, 'run', async (lock) => {
      await loadOnce(deps, options, state, result, lock);
    });
  } catch (error) {
    await finish(error);
    throw error;
  }
  result.ok = true;
  return finish();
}

async function loadOnce(
  deps: LoaderDeps,
  options: RunOptions,
  state: LoaderState,
  result: RunResult,
  lock: HeldLock,
): Promise<void> {
  const { settings } = deps;
  const layout = layoutOf(deps);
  const steps = stepTracker(result, deps.progress);
  steps.enter('plan');
  const ranges = await planRanges(deps);
  const pending = await state.pending();
  const locations = new Map<Hour, Promise<string>>();
  const locate = (hour: Hour): Promise<string> => {
    let p = locations.get(hour);
    if (!p) {
      p = state.eventsLocation(hour);
      locations.set(hour, p);
    }
    return p;
  };
  await mkdir(settings.tempDir, { recursive: true });
  const dir = await mkdtemp(join(settings.tempDir, 'load-'));
  const duckdb = await openLoaderDuckDb({
    memoryLimit: settings.duckdbMemoryLimit,
    threads: settings.duckdbThreads,
    tempDir: dir,
    rowGroupSize: settings.rowGroupSize,
    sortEvents: settings.sortEvents,
  });
  try {
    const dedup = new Deduplicator({
      store: deps.store,
      layout,
      horizonHours: settings.dedupHorizonHours,
      locate,
      excludeKeys: new Set(pending?.keys ?? []),
      logger: deps.logger,
    });
    const buckets = new HourBuckets({
      dir,
      duckdb,
      maxRowsPerFile: settings.maxRowsPerFile,
      convertConcurrency: settings.convertConcurrency,
    });
    steps.enter('consume');
    const consumed: ConsumeResult = await consumeRanges(deps, {
      ranges,
      dedup,
      buckets,
      ...(options.until !== undefined ? { until: options.until } : {}),
    });
    await buckets.closeAll();
    crashIfAt(deps, 'after-write');

    const targets = await plannedKeys(deps, buckets.written, locate);
    const letters = deadLetterFiles(deps, consumed.deadLetters);
    const newKeys = new Set([...targets.flatMap((t) => [t.key, t.indexKey]), ...letters.map((l) => l.key)]);
    const stale = (pending?.keys ?? []).filter((k) => !newKeys.has(k));
    const hours = new Set<Hour>([...consumed.hours, ...(pending?.hours ?? [])]);
    if (newKeys.size > 0 || pending) {
      await state.writePending({
        runId: result.runId,
        keys: [...new Set([...(pending?.keys ?? []), ...newKeys])],
        hours: [...hours],
      });
    }
    steps.enter('upload');
    await uploadFiles(deps, buckets.written, targets);
    for (const letter of letters) await deps.store.put(letter.key, letter.body);
    crashIfAt(deps, 'after-upload');
    // What a crashed run wrote and this one did not overwrite: gone before anything is registered.
    if (stale.length > 0) await deps.store.delete(stale);

    steps.enter('register');
    await ensureTables(deps);
    await registerHours(deps, 'events', hours, locate);
    crashIfAt(deps, 'after-register');
    steps.enter('rollups');
    await writeRollups(
      deps,
      duckdb,
      [...hours].sort((a, b) => a - b),
      locate,
    );
    crashIfAt(deps, 'after-rollups');

    steps.enter('commit');
    // Fencing: if our lease was lost (expired while this process stalled), another loader may be at
    // work; renew() then throws and nothing is committed.
    await lock.renew();
    await commitOffsets(deps, consumed.ends);
    crashIfAt(deps, 'after-commit');
    steps.done();
    if (pending || newKeys.size > 0) await state.clearPending();

    result.events = consumed.written;
    result.duplicates = dedup.duplicates;
    result.malformed = consumed.malformed;
    result.files = targets.length;
    result.bytes = targets.reduce((n, t) => n + t.bytes, 0);
    result.hours = [...hours].sort((a, b) => a - b).map(hourLabel);
    result.committed = consumed.ends;
    const last = [...consumed.hours].sort((a, b) => b - a)[0];
    if (last !== undefined) {
      const known = await state.hoursLoaded();
      const previous = known?.lastHour ?? '';
      const label = hourLabel(last);
      if (label > previous) await state.writeHoursLoaded({ lastHour: label });
    }
  } finally {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
}
