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
 *
 * `source: 'archive'` reads the raw archive (archive/) instead of the bus:
 * the archive objects of the same window of bus hours, through the same
 * consume path, so an hour Kafka no longer holds can still be rebuilt.
 */
import { InputError } from '../shared/errors.ts';
import { busHourOf } from './archive/archive-format.ts';
import { ArchiveBus } from './archive/archive-read.ts';
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
  /** Where the messages come from: the bus (default) or the raw archive. */
  source?: 'kafka' | 'archive';
  /**
   * A bus replay whose window starts before the oldest message the bus still
   * holds is refused (retention may have taken part of the hours, and the swap
   * would drop those rows from the warehouse); true replays what is left.
   */
  allowExpired?: boolean;
}

/** The archive's bus over the same window a bus replay reads; refuses when it holds nothing there. */
async function archiveSource(deps: LoaderDeps, options: ReplayOptions): Promise<ArchiveBus> {
  const busHours: Hour[] = [];
  const first = busHourOf(options.from * HOUR_MS - CLOCK_SKEW_MS);
  for (let h = first; h <= options.to + deps.settings.replayLateHours; h++) busHours.push(h);
  const bus = await ArchiveBus.open({
    store: deps.store,
    layout: layoutOf(deps),
    topic: deps.settings.topic,
    hours: busHours,
    real: deps.bus,
  });
  // Swapping to an empty location would empty the hours: an archive with nothing there is a mistake.
  if (bus.objects === 0) {
    throw new InputError(
      `the archive holds nothing for ${hourLabel(options.from)}..${hourLabel(options.to)} (was loader.archive off?)`,
      { status: 404, code: 'no_archive' },
    );
  }
  return bus;
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
  const ranges = marks.map((m) => {
    const done = at(committed, m.partition) ?? m.low;
    const from = Math.max(m.low, at(starts, m.partition) ?? m.high);
    const to = Math.min(done, at(ends, m.partition) ?? m.high);
    return { partition: m.partition, from: Math.min(from, to), to };
  });
  refuseWhatTheBusLost(options, marks, starts, ranges);
  return ranges;
}

/**
 * A replay swaps the hours to what it read: reading from a bus that lost
 * them would empty the warehouse's copy, the only one left. Two signs: the
 * window is empty on every partition (a recreated topic, or hours older than
 * anything kept), or a partition's oldest kept message is already inside the
 * window (retention deleted what came before it, perhaps part of the hours).
 */
function refuseWhatTheBusLost(
  options: ReplayOptions,
  marks: { partition: number; low: number; high: number }[],
  starts: { partition: number; offset: number }[],
  ranges: PartitionRange[],
): void {
  const window = `${hourLabel(options.from)}..${hourLabel(options.to)}`;
  if (ranges.every((r) => r.to <= r.from)) {
    throw new InputError(
      `the bus holds no message of ${window}: nothing to replay from it (the archive may hold them: --source archive)`,
      { status: 409, code: 'nothing_on_bus' },
    );
  }
  if (options.allowExpired) return;
  const cut = marks.filter(
    (m) => m.low > 0 && (starts.find((s) => s.partition === m.partition)?.offset ?? m.high) <= m.low,
  );
  if (cut.length > 0) {
    throw new InputError(
      `the bus's oldest message on partition ${cut.map((m) => m.partition).join(', ')} is already inside ${window}: retention may have deleted part of these hours, and a replay would drop them from the warehouse. Replay from the archive (--source archive), or --allow-expired to rebuild from what the bus still holds`,
      { status: 409, code: 'expired_on_bus' },
    );
  }
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
  let source = deps;
  let ranges = (state: LoaderState) => replayRanges(deps, state, options);
  if (options.source === 'archive') {
    const bus = await archiveSource(deps, options);
    // The archive's ranges end where it ends, unknown before reading: no progress bar.
    const { progress: _unknownTotal, ...rest } = deps;
    source = { ...rest, bus };
    ranges = async () => bus.ranges();
  }
  return recordedLoad(source, 'replay', purpose, labels, async ({ state, result, lock }) => {
    const deps = source;
    const layout = layoutOf(deps);
    const newPrefix = async (h: Hour) => layout.partitionPrefix('events', h, result.runId);
    const swaps: HourSwap[] = [];
    await load(deps, state, result, {
      command: 'replay',
      ranges: () => ranges(state),
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
