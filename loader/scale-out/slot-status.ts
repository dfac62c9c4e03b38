/**
 * @module What `loader status` says of scaled-out loaders: per slot (a
 * partition number across every topic, slot-names.ts) its lock, and per
 * topic in it the committed offset against the high watermark, the last
 * loaded hour, the last run and an unfinished load, read from the slot's
 * own state objects; and a scaled-out compaction's unfinished pass. Reads
 * only, like the single loader's status: no lock taken, nothing created.
 */
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import { LoaderState, type PendingManifest, type RunResult } from '../loader-state.ts';
import { type LockRecord, readLock } from '../object-store-lock.ts';
import { committedOffsets } from '../steps/plan.ts';
import { compactionStateName, slotLockName, slotStateName } from './slot-names.ts';

export interface SlotTopicStatus {
  topic: string;
  committed: number | null;
  high: number;
  lag: number;
  lastHour: string | null;
  lastRun: RunResult | null;
  pendingRun: string | null;
  pendingCommand: string | null;
}

export interface SlotStatus {
  slot: number;
  /** Who loads this slot now (`_loader/lock/<group>/p<N>.json`), or null. */
  lock: LockRecord | null;
  lag: number;
  topics: SlotTopicStatus[];
}

export interface ScaledOutStatus {
  topics: string[];
  slots: SlotStatus[];
  /** A scaled-out compaction that stopped mid-way (`<group>/compaction`): the next compaction settles it. */
  pendingCompaction: string | null;
}

export function pendingCommandOf(pending: PendingManifest | null): string | null {
  return pending ? `${pending.command ?? 'run'}${pending.phase ? ` (${pending.phase})` : ''}` : null;
}

export async function scaledOutStatus(
  deps: Pick<LoaderDeps, 'bus' | 'store' | 'settings'>,
  topics: readonly string[],
): Promise<ScaledOutStatus> {
  const layout = layoutOf(deps);
  const { group } = deps.settings;
  // The watermarks first and alone (as status.ts): a missing topic fails before anything else is in flight.
  const marks = new Map<string, Awaited<ReturnType<LoaderDeps['bus']['watermarks']>>>();
  for (const topic of topics) marks.set(topic, await deps.bus.watermarks(topic));
  const slots = new Map<number, SlotStatus>();
  for (const topic of topics) {
    const partitions = marks.get(topic) ?? [];
    const slotStates = partitions.map((m) => ({
      state: slotStateName(group, m.partition, topic),
      topic,
      partition: m.partition,
    }));
    // The loader's own rule for where a slot starts (its record, a single loader's, the group's).
    const committed = await committedOffsets(
      { ...deps, settings: { ...deps.settings, topic }, scope: { state: '', lock: '', slotStates } },
      new LoaderState(deps.store, layout, topic),
    );
    for (const m of partitions) {
      const state = new LoaderState(deps.store, layout, slotStateName(group, m.partition, topic));
      const [lastRun, hours, pending] = await Promise.all([
        state.lastRun(),
        state.hoursLoaded(),
        state.pending(),
      ]);
      const c = committed.find((x) => x.partition === m.partition)?.offset ?? null;
      const lag = m.high - Math.max(c ?? m.low, m.low);
      let slot = slots.get(m.partition);
      if (!slot) {
        slot = {
          slot: m.partition,
          lock: await readLock(deps.store, layout.lockKey(slotLockName(group, m.partition))),
          lag: 0,
          topics: [],
        };
        slots.set(m.partition, slot);
      }
      slot.lag += lag;
      slot.topics.push({
        topic,
        committed: c,
        high: m.high,
        lag,
        lastHour: hours?.lastHour ?? null,
        lastRun,
        pendingRun: pending?.runId ?? null,
        pendingCommand: pendingCommandOf(pending),
      });
    }
  }
  const compaction = await new LoaderState(deps.store, layout, compactionStateName(group)).pending();
  return {
    topics: [...topics],
    slots: [...slots.values()].sort((a, b) => a.slot - b.slot),
    pendingCompaction: compaction?.runId ?? null,
  };
}
