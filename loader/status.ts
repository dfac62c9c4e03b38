/**
 * @module `loader status`: how far behind the loader is (per partition, the
 * messages between the committed offset and the high watermark), the last
 * hour that received events, the last run's result, and who holds the lock.
 */
import { type LoaderDeps, layoutOf } from './loader-deps.ts';
import { type HoursLoaded, LoaderState, type RunResult } from './loader-state.ts';
import { type LockRecord, readLock } from './object-store-lock.ts';
import { committedOffsets } from './steps/plan.ts';

export interface LoaderStatus {
  topic: string;
  group: string;
  partitions: { partition: number; committed: number | null; high: number; lag: number }[];
  lag: number;
  lastHour: HoursLoaded['lastHour'];
  lastRun: RunResult | null;
  lock: LockRecord | null;
  pendingRun: string | null;
  /** What the unfinished load was: a run, or a replay (and whether it had reached its swap). */
  pendingCommand: string | null;
}

/** Reads only: the bus's offsets and the store's state objects; no catalog, no lock taken. */
export type StatusDeps = Pick<LoaderDeps, 'bus' | 'store' | 'settings'>;

export async function loaderStatus(deps: StatusDeps): Promise<LoaderStatus> {
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
    pendingCommand: pending
      ? `${pending.command ?? 'run'}${pending.phase ? ` (${pending.phase})` : ''}`
      : null,
  };
}
