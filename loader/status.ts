/**
 * @module `loader status`: how far behind the loader is (per partition, the
 * messages between the committed offset and the high watermark), the last
 * hour that received events, the last run's result, and who holds the lock.
 * Scaled out, the same read from every slot's records (scale-out/slot-status.ts),
 * with the per-slot detail under `scaledOut`.
 */
import { type LoaderDeps, layoutOf } from './loader-deps.ts';
import { type HoursLoaded, LoaderState, type RunResult } from './loader-state.ts';
import { type LockRecord, readLock } from './object-store-lock.ts';
import { pendingCommandOf, type ScaledOutStatus, scaledOutStatus } from './scale-out/slot-status.ts';
import { committedOffsets } from './steps/plan.ts';

export interface LoaderStatus {
  /** The topic; scaled out, every topic loaded, comma-separated. */
  topic: string;
  group: string;
  /** Scaled out, each entry names its topic. */
  partitions: { topic?: string; partition: number; committed: number | null; high: number; lag: number }[];
  lag: number;
  lastHour: HoursLoaded['lastHour'];
  lastRun: RunResult | null;
  lock: LockRecord | null;
  pendingRun: string | null;
  /** What the unfinished load was: a run, or a replay (and whether it had reached its swap). */
  pendingCommand: string | null;
  /** Scaled out (loader/README.md, "Scale-out"): each slot's lock, offsets, last run and unfinished load. */
  scaledOut?: ScaledOutStatus;
}

/** Reads only: the bus's offsets and the store's state objects; no catalog, no lock taken. */
export type StatusDeps = Pick<LoaderDeps, 'bus' | 'store' | 'settings'>;

/**
 * `topics`: the loaders are scaled out over these topics (the member's, or what the pattern
 * matches now); the top-level fields then sum or pick from every slot (`lock` is null: each
 * slot has its own, under `scaledOut`; the last run is the latest of any slot).
 */
export async function loaderStatus(
  deps: StatusDeps,
  { topics }: { topics?: readonly string[] } = {},
): Promise<LoaderStatus> {
  if (topics) return scaledStatus(deps, topics);
  const { bus, settings } = deps;
  const layout = layoutOf(deps);
  const state = new LoaderState(deps.store, layout, settings.topic);
  // The watermarks first and alone: a missing topic fails them at once, and nothing else may then
  // still be in flight on the bus when the caller closes it (kafkajs logged "write after end" as an
  // error, and a request left retrying could keep the process from exiting).
  const marks = await bus.watermarks(settings.topic);
  const [committed, lastRun, hours, lock, pending] = await Promise.all([
    committedOffsets(deps, state),
    state.lastRun(),
    state.hoursLoaded(),
    readLock(deps.store, layout.lockKey(settings.topic)),
    state.pending(),
  ]);
  const partitions = marks.map((m) => {
    const c = committed.find((x) => x.partition === m.partition)?.offset ?? null;
    return { partition: m.partition, committed: c, high: m.high, lag: m.high - Math.max(c ?? m.low, m.low) };
  });
  return {
    topic: settings.topic,
    group: settings.group,
    partitions,
    lag: partitions.reduce((n, p) => n + p.lag, 0),
    lastHour: hours?.lastHour ?? null,
    lastRun,
    lock,
    pendingRun: pending?.runId ?? null,
    pendingCommand: pendingCommandOf(pending),
  };
}

async function scaledStatus(deps: StatusDeps, topics: readonly string[]): Promise<LoaderStatus> {
  const scaledOut = await scaledOutStatus(deps, topics);
  const entries = scaledOut.slots.flatMap((s) => s.topics.map((t) => ({ ...t, slot: s.slot })));
  const latest = <T>(values: (T | null)[], key: (v: T) => string): T | null =>
    values.reduce<T | null>((a, b) => (b !== null && (a === null || key(b) > key(a)) ? b : a), null);
  const pending = entries.find((e) => e.pendingRun !== null);
  return {
    topic: topics.join(', '),
    group: deps.settings.group,
    partitions: entries
      .map((e) => ({ topic: e.topic, partition: e.slot, committed: e.committed, high: e.high, lag: e.lag }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    lag: entries.reduce((n, e) => n + e.lag, 0),
    lastHour: latest(
      entries.map((e) => e.lastHour),
      (h) => h,
    ),
    lastRun: latest(
      entries.map((e) => e.lastRun),
      (r) => r.finishedAt,
    ),
    lock: null,
    pendingRun: pending?.pendingRun ?? scaledOut.pendingCompaction,
    pendingCommand: pending?.pendingCommand ?? (scaledOut.pendingCompaction ? 'compact' : null),
    scaledOut,
  };
}
