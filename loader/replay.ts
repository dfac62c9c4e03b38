/**
 * @module `loader replay --from --to`: re-loads whole hours from the bus
 * after a fix, without readers ever seeing half of it. The offsets come from
 * the bus by timestamp: from the start of the first hour (less a small clock
 * skew allowance) to `replayLateHours` past the last one, never beyond what
 * the regular run has committed (later messages are the next run's). Events
 * of the replayed hours go to a new location, `…/hour=HH/v=<runId>/`; then
 * each partition is pointed there in one catalog statement and the old files
 * are deleted (steps/swap.ts). Offsets are not touched. It runs through the
 * same load routine as a run (load.ts): a replay that dies before its swap
 * is undone by the next load, one that dies during its swap is finished.
 */
import { InputError } from '../shared/errors.ts';
import { CompactionQueue } from './compaction/compaction-queue.ts';
import { HOUR_MS, type Hour, hourLabel } from './layout.ts';
import { load, recordedLoad } from './load.ts';
import { type LoaderDeps, layoutOf } from './loader-deps.ts';
import type { LoaderState, RunResult } from './loader-state.ts';
import { committedOffsets, type PartitionRange } from './steps/plan.ts';
import { ensureTables } from './steps/register.ts';
import { type HourSwap, swapLocations } from './steps/swap.ts';

/** Edge clocks may run a little ahead of the broker's: start this much before the first hour. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** More hours than this in one replay is almost certainly a typo. */
const MAX_REPLAY_HOURS = 24 * 31;

export interface ReplayOptions {
  from: Hour;
  to: Hour;
}

async function replayRanges(
  deps: LoaderDeps,
  state: LoaderState,
  options: ReplayOptions,
): Promise<PartitionRange[]> {
  const { bus, settings } = deps;
  const fromMs = options.from * HOUR_MS - CLOCK_SKEW_MS;
  const toMs = (options.to + 1 + settings.replayLateHours) * HOUR_MS;
  const [marks, committed, starts, ends] = await Promise.all([
    bus.watermarks(settings.topic),
    committedOffsets(deps, state),
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
  const hours = new Set<Hour>();
  for (let h = options.from; h <= options.to; h++) hours.add(h);
  const labels = [...hours].map(hourLabel);
  const purpose = `replay ${hourLabel(options.from)}..${hourLabel(options.to)}`;
  return recordedLoad(deps, 'replay', purpose, labels, async ({ state, result, lock }) => {
    const layout = layoutOf(deps);
    const newPrefix = async (h: Hour) => layout.partitionPrefix('events', h, result.runId);
    const swaps: HourSwap[] = [];
    await load(deps, state, result, {
      command: 'replay',
      ranges: () => replayRanges(deps, state, options),
      onlyHours: hours,
      target: newPrefix,
      locate: (h) => state.eventsLocation(h),
      // Read after the previous load is settled: a swap it finished has moved these hours.
      async manifestExtras() {
        for (const hour of hours) {
          swaps.push({ hour, from: await state.eventsLocation(hour), to: await newPrefix(hour) });
        }
        return { swaps, phase: 'uploading' };
      },
      async finish({ duckdb, steps, manifest }) {
        steps.enter('register');
        await ensureTables(deps);
        await lock.renew(); // fencing: a lost lease stops the replay before it swaps anything
        // A replay writes one file per (hour, partition) again: those hours are compaction candidates.
        await new CompactionQueue(deps.store, layout, deps.settings.topic).add(hours);
        // From here on the replay is finished, never undone: every new file is uploaded.
        await state.writePending({ ...manifest, phase: 'swapping' });
        steps.enter('swap');
        await swapLocations(deps, state, duckdb, swaps);
      },
    });
  });
}
