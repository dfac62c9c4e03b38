/**
 * @module One pass of a scaled-out loader (loader/README.md, "Scale-out"):
 * for each slot the group assigned to this process, under that slot's lock,
 * one load per topic (run-once.ts, scoped to the slot's partition and its
 * own state objects), then, when asked, a compaction that holds every
 * slot's lock. The assignment is read again before each slot, so a slot
 * that moved away in a rebalance is left to its new owner; one still held
 * by another process (its old owner finishing, or a crashed one's until the
 * lease check finds it dead) is skipped this pass, never waited for.
 */
import { hostname } from 'node:os';
import { type CompactionResult, compactHours } from '../compaction/compact.ts';
import { newRunId, whileRenewed } from '../load.ts';
import { type LoaderDeps, type LoadScope, layoutOf } from '../loader-deps.ts';
import { LoaderState, newRunResult, type RunResult } from '../loader-state.ts';
import { acquireLock, type HeldLock, LockBusyError } from '../object-store-lock.ts';
import { type RunOptions, runOnce } from '../run-once.ts';
import type { SlotMember } from './group-member.ts';
import { passCatalog } from './pass-catalog.ts';
import { compactionStateName, hourLocksName, slotLockName, slotStateName } from './slot-names.ts';

export interface ScaledRunResult {
  /** The loads' results added up (the CLI's summary line). */
  total: RunResult;
  /** One per (slot, topic) loaded. */
  loads: RunResult[];
  /** Slots skipped because another process held them. */
  busy: number[];
}

/** Holds `name`'s lock while `work` runs, renewed within its TTL; null when another process holds it. */
async function whileHolding<T>(
  deps: LoaderDeps,
  names: readonly string[],
  purpose: string,
  work: (lock: HeldLock) => Promise<T>,
): Promise<{ value: T } | null> {
  const layout = layoutOf(deps);
  const owner = `${purpose}-${hostname()}-${process.pid}-${newRunId(Date.now())}`;
  const held: HeldLock[] = [];
  try {
    // In sorted order, so two processes taking several never wait on each other in a cycle.
    for (const name of [...names].sort()) {
      held.push(
        await acquireLock(deps.store, layout.lockKey(name), {
          owner,
          purpose,
          ttlMs: deps.settings.lockTtlMs,
          ...(deps.now ? { now: deps.now } : {}),
        }),
      );
    }
  } catch (err) {
    for (const lock of held) await lock.release().catch(() => undefined);
    if (err instanceof LockBusyError) return null;
    throw err;
  }
  const all: HeldLock = {
    get record() {
      return (held[0] as HeldLock).record;
    },
    async renew() {
      for (const lock of held) await lock.renew();
    },
    async release() {
      for (const lock of held) await lock.release();
    },
  };
  return { value: await whileRenewed(deps, all, work) };
}

function slotScope(
  deps: LoaderDeps,
  member: SlotMember,
  partition: number,
  topic: string,
  lock: HeldLock,
): LoadScope {
  const { group } = deps.settings;
  return {
    state: slotStateName(group, partition, topic),
    lock: slotLockName(group, partition),
    held: lock,
    partitions: [partition],
    mirror: (offsets) => member.commit(topic, offsets),
    hourLocks: hourLocksName(group),
  };
}

/** Loads every slot assigned to this member once (each topic of a slot in turn, under the slot's lock). */
export async function runScaledOut(
  deps: LoaderDeps,
  member: SlotMember,
  options: RunOptions = {},
): Promise<ScaledRunResult> {
  const started = Date.now();
  const loads: RunResult[] = [];
  const busy: number[] = [];
  const done = new Set<number>();
  const { group } = deps.settings;
  const compaction = new LoaderState(deps.store, layoutOf(deps), compactionStateName(group));
  // Tables ensured and hours registered once per pass, not once per slot and topic.
  const catalog = passCatalog(deps.catalog);
  for (;;) {
    const mine = member.slots();
    const next = [...mine.keys()].find((p) => !done.has(p));
    if (next === undefined) break;
    done.add(next);
    const held = await whileHolding(deps, [slotLockName(group, next)], 'run', async (lock) => {
      // A compaction that died leaves hours half swapped; only a compaction (holding every slot) settles it.
      if (await compaction.pending()) {
        deps.logger.warn(
          { slot: next },
          'a compaction stopped mid-way: this slot waits for the next compaction pass',
        );
        return;
      }
      for (const topic of mine.get(next) ?? []) {
        const scoped: LoaderDeps = {
          ...deps,
          catalog,
          settings: { ...deps.settings, topic },
          scope: slotScope(deps, member, next, topic, lock),
        };
        loads.push(await runOnce(scoped, options));
      }
    });
    if (!held) {
      busy.push(next);
      deps.logger.info({ slot: next }, 'slot held by another loader; skipped this pass');
    }
  }
  return { total: addUp(loads, started), loads, busy };
}

function addUp(loads: RunResult[], started: number): RunResult {
  const total = newRunResult(newRunId(started), 'run', started, []);
  total.ok = loads.every((r) => r.ok);
  total.finishedAt = new Date().toISOString();
  total.seconds = (Date.now() - started) / 1000;
  for (const r of loads) {
    total.events += r.events;
    total.duplicates += r.duplicates;
    total.malformed += r.malformed;
    total.files += r.files;
    total.bytes += r.bytes;
    total.committed.push(...r.committed);
    for (const [step, s] of Object.entries(r.steps)) total.steps[step] = (total.steps[step] ?? 0) + s;
  }
  total.hours = [...new Set(loads.flatMap((r) => r.hours))].sort();
  const deferred = [...new Set(loads.flatMap((r) => r.deferredRollups ?? []))].sort();
  if (deferred.length > 0) total.deferredRollups = deferred;
  return total;
}

/**
 * A compaction over every slot: it rewrites whole hours, which hold every
 * slot's files, so it holds every slot's lock (taken in order; skipped when
 * one is busy, tried again after the next pass) and reads every slot's
 * offsets and compaction queue.
 */
export async function compactScaledOut(
  deps: LoaderDeps,
  topics: readonly string[],
  hours?: number[],
): Promise<CompactionResult> {
  const { group } = deps.settings;
  const slotStates: { state: string; topic: string; partition: number }[] = [];
  for (const topic of topics) {
    for (const m of await deps.bus.watermarks(topic))
      slotStates.push({ state: slotStateName(group, m.partition, topic), topic, partition: m.partition });
  }
  const slots = [...new Set(slotStates.map((s) => s.partition))].map((p) => slotLockName(group, p));
  const held = await whileHolding(deps, slots, 'compact', (lock) =>
    compactHours(
      {
        ...deps,
        scope: {
          state: compactionStateName(group),
          lock: compactionStateName(group),
          held: lock,
          slotStates,
          topics,
        },
      },
      hours ? { hours } : {},
    ),
  );
  if (held) return held.value;
  return {
    id: newRunId(Date.now()),
    hours: [],
    alreadyCompact: 0,
    waiting: 0,
    seconds: 0,
    skipped: 'a slot is being loaded; the next pass compacts',
  };
}
