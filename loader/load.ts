/**
 * @module The one load routine behind `loader run` and `loader replay`, so the
 * crash rules are written once: settle what a crashed load left (repair.ts),
 * read closed offset ranges, dedup, write Parquet, record the pending
 * manifest, upload, then hand over to the command's own `finish` (a run
 * registers and commits offsets; a replay swaps locations), and only after
 * that remove the manifest. A crash anywhere leaves a manifest the next load
 * settles: before the commit point its files are replaced or deleted, after
 * it they are kept.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsumedMessage } from '../shared/bus/bus.ts';
import { ArchiveWriter, uploadArchive } from './archive/archive-writer.ts';
import type { Hour } from './layout.ts';
import { crashIfAt, hotFilesSorted, type LoaderDeps, layoutOf, stateNameOf } from './loader-deps.ts';
import { LoaderState, newRunResult, type PendingManifest, type RunResult } from './loader-state.ts';
import { acquireLock, type HeldLock } from './object-store-lock.ts';
import { type LoaderDuckDb, lazyLoaderDuckDb } from './parquet/loader-duckdb.ts';
import { ParsePool } from './parse/parse-pool.ts';
import { settlePending } from './repair.ts';
import { type ConsumeResult, consumeRanges, type DeadLetter } from './steps/consume.ts';
import { Deduplicator } from './steps/dedup.ts';
import type { PartitionRange } from './steps/plan.ts';
import { plannedKeys, type UploadedFile, uploadFiles } from './steps/upload.ts';
import { HourBuckets } from './steps/write.ts';

/** Tells the progress reporter which step runs, and records each step's seconds in the result. */
export interface StepTracker {
  enter(name: string): void;
  done(): void;
}

export interface LoadContext {
  duckdb: LoaderDuckDb;
  steps: StepTracker;
  consumed: ConsumeResult;
  targets: UploadedFile[];
  /** Hours whose data changed: this load's, and a crashed run's it carried over. */
  hours: Set<Hour>;
  manifest: PendingManifest;
}

export interface LoadSpec {
  command: 'run' | 'replay' | 'import';
  /** The ranges to read, planned once the previous load is settled. */
  ranges(): Promise<PartitionRange[]>;
  until?: Hour;
  /** Only events of these hours are written (a replay's). */
  onlyHours?: ReadonlySet<Hour>;
  /** Names of data files and dead letters when not the topic's (an import's, from its source). */
  names?: {
    dataFile(partition: number, firstOffset: number): string;
    deadLetter(partition: number, firstOffset: number): string;
  };
  /** Dead-letters a message before it is parsed (see ConsumeOptions.refuse). */
  refuse?: (message: ConsumedMessage) => string | undefined;
  /** Where an hour's new files go. */
  target(hour: Hour): Promise<string>;
  /** The current location of an hour, for dedup against what is loaded. */
  locate(hour: Hour): Promise<string>;
  /** Extra manifest fields (a run's commit point, a replay's swaps), known once the ranges are read. */
  manifestExtras(consumed: ConsumeResult): Promise<Pick<PendingManifest, 'ends' | 'swaps' | 'phase'>>;
  /** Makes the upload visible and final; the manifest is removed after it returns. */
  finish(ctx: LoadContext): Promise<void>;
}

function stepTracker(result: RunResult, deps: LoaderDeps): StepTracker {
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
      deps.progress?.step(name);
    },
    done: close,
  };
}

function deadLetterFiles(
  deps: LoaderDeps,
  letters: DeadLetter[],
  keyOf: (partition: number, firstOffset: number) => string = (p, o) =>
    layoutOf(deps).deadLetterKey(deps.settings.topic, p, o),
): { key: string; body: string }[] {
  const byPartition = new Map<number, DeadLetter[]>();
  for (const d of letters) {
    const list = byPartition.get(d.partition) ?? [];
    list.push(d);
    byPartition.set(d.partition, list);
  }
  return [...byPartition].map(([partition, list]) => ({
    key: keyOf(partition, (list[0] as DeadLetter).offset),
    body: `${list.map((d) => JSON.stringify(d)).join('\n')}\n`,
  }));
}

export async function load(
  deps: LoaderDeps,
  state: LoaderState,
  result: RunResult,
  spec: LoadSpec,
): Promise<void> {
  const { settings } = deps;
  const steps = stepTracker(result, deps);
  await mkdir(settings.tempDir, { recursive: true });
  const dir = await mkdtemp(join(settings.tempDir, `${spec.command}-`));
  const duckdb = lazyLoaderDuckDb({
    memoryLimit: settings.duckdbMemoryLimit,
    threads: settings.duckdbThreads,
    tempDir: dir,
    rowGroupSize: settings.rowGroupSize,
    sortEvents: hotFilesSorted(settings),
  });
  let archive: ArchiveWriter | undefined;
  let parser: ParsePool | undefined;
  try {
    steps.enter('plan');
    const settled = await settlePending(deps, state, duckdb, spec.command);
    if (settled.note) result.repaired = settled.note;
    const carried = settled.carried;
    const ranges = await spec.ranges();
    const dedup = new Deduplicator({
      store: deps.store,
      layout: layoutOf(deps),
      horizonHours: settings.dedupHorizonHours,
      locate: spec.locate,
      excludeKeys: new Set(carried?.keys ?? []),
      ...(spec.onlyHours ? { skipHours: spec.onlyHours } : {}),
      logger: deps.logger,
    });
    const buckets = new HourBuckets({
      dir,
      duckdb,
      maxRowsPerFile: settings.maxRowsPerFile,
      convertConcurrency: settings.convertConcurrency,
    });
    // Only a run archives: a replay or an import reads what is archived already, or was never on the bus.
    archive =
      spec.command === 'run' && settings.archive !== false
        ? new ArchiveWriter({ dir, layout: layoutOf(deps), topic: settings.topic })
        : undefined;
    // A transform is a function: it cannot cross to a thread, so its loads parse on this one.
    const parseThreads = settings.parseThreads ?? 1;
    parser =
      parseThreads > 0 && !deps.transform
        ? new ParsePool({
            threads: parseThreads,
            ...(settings.parseHeapMb ? { maxOldGenerationSizeMb: settings.parseHeapMb } : {}),
          })
        : undefined;
    steps.enter('consume');
    const consumed = await consumeRanges(deps, {
      ranges,
      dedup,
      buckets,
      ...(spec.until !== undefined ? { until: spec.until } : {}),
      ...(spec.onlyHours ? { onlyHours: spec.onlyHours } : {}),
      ...(archive ? { archive } : {}),
      ...(spec.refuse ? { refuse: spec.refuse } : {}),
      ...(parser ? { parser } : {}),
    });
    await parser?.close();
    await buckets.closeAll();
    const archived = (await archive?.close()) ?? [];
    crashIfAt(deps, 'after-write');

    const targets = await plannedKeys(deps, buckets.written, spec.target, spec.names?.dataFile);
    const letters = deadLetterFiles(deps, consumed.deadLetters, spec.names?.deadLetter);
    const newKeys = new Set([
      ...targets.flatMap((t) => [t.key, t.indexKey]),
      ...letters.map((l) => l.key),
      ...archived.map((a) => a.key),
    ]);
    // What a crashed run wrote and this load does not overwrite: deleted after the upload, before
    // anything is registered, so a reader never loses a file that is not about to come back.
    const stale = (carried?.keys ?? []).filter((k) => !newKeys.has(k));
    const hours = new Set<Hour>([...consumed.hours, ...(carried?.hours ?? [])]);
    const manifest: PendingManifest = {
      runId: result.runId,
      command: spec.command,
      keys: [...new Set([...(carried?.keys ?? []), ...newKeys])],
      hours: [...hours],
      ...(await spec.manifestExtras(consumed)),
    };
    await state.writePending(manifest);
    steps.enter('upload');
    await uploadFiles(deps, buckets.written, targets);
    for (const letter of letters) await deps.store.put(letter.key, letter.body);
    await uploadArchive(deps.store, archived, settings.uploadConcurrency);
    crashIfAt(deps, 'after-upload');
    if (stale.length > 0) await deps.store.delete(stale);

    await spec.finish({ duckdb, steps, consumed, targets, hours, manifest });
    steps.done();
    await state.clearPending();

    result.events = consumed.written;
    result.duplicates = dedup.duplicates;
    result.malformed = consumed.malformed;
    result.files = targets.length;
    result.bytes = targets.reduce((n, t) => n + t.bytes, 0);
    if (archive) {
      result.archived = {
        objects: archived.length,
        messages: archived.reduce((n, a) => n + a.messages, 0),
        bytes: archived.reduce((n, a) => n + a.bytes, 0),
      };
    }
  } finally {
    await parser?.close();
    await archive?.destroy(); // the thread of a failed load (a finished one has ended it already)
    await duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function newRunId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${randomBytes(3).toString('hex')}`;
}

/** Holds the topic's (or the slot's) lock while `work` runs, renewing it well within its TTL. */
export async function withLock<T>(
  deps: LoaderDeps,
  owner: string,
  purpose: string,
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  if (deps.scope?.held) return work(deps.scope.held);
  const layout = layoutOf(deps);
  const lock = await acquireLock(deps.store, layout.lockKey(deps.scope?.lock ?? deps.settings.topic), {
    owner,
    purpose,
    ttlMs: deps.settings.lockTtlMs,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return whileRenewed(deps, lock, work);
}

/** Runs `work` with `lock` renewed every third of its TTL, then releases it. */
export async function whileRenewed<T>(
  deps: Pick<LoaderDeps, 'logger' | 'settings'>,
  lock: HeldLock,
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
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

/**
 * One load under the lock, its result recorded for `loader status` whether
 * it succeeds or fails (a failure is rethrown after it is recorded).
 */
export async function recordedLoad(
  deps: LoaderDeps,
  command: RunResult['command'],
  purpose: string,
  hours: string[],
  work: (ctx: { state: LoaderState; result: RunResult; lock: HeldLock }) => Promise<void>,
): Promise<RunResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const result = newRunResult(newRunId(started), command, started, hours);
  const state = new LoaderState(deps.store, layoutOf(deps), stateNameOf(deps));
  const finish = async (error?: unknown): Promise<RunResult> => {
    result.finishedAt = new Date(now()).toISOString();
    result.seconds = (now() - started) / 1000;
    if (error !== undefined) result.error = error instanceof Error ? error.message : String(error);
    await state
      .writeLastRun(result)
      .catch((err: unknown) =>
        deps.logger.warn({ err, runId: result.runId }, 'could not record the run result'),
      );
    return result;
  };
  try {
    await withLock(deps, result.runId, purpose, (lock) => work({ state, result, lock }));
  } catch (error) {
    await finish(error);
    throw error;
  }
  result.ok = true;
  return finish();
}
