/**
 * @module Step "plan": the closed offset range of each partition for this
 * run, [committed, high), with the high watermarks taken once at the start,
 * so the run ends even while the edge keeps producing.
 */
import type { PartitionOffset } from '../../shared/bus/bus.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import type { LoaderState } from '../loader-state.ts';

export interface PartitionRange {
  partition: number;
  from: number;
  to: number;
}

/**
 * What is loaded: the loader's own record (steps/commit.ts), or, for a
 * warehouse loaded before that record existed, the consumer group's offsets.
 */
export async function committedOffsets(
  deps: Pick<LoaderDeps, 'bus' | 'settings'>,
  state: LoaderState,
): Promise<PartitionOffset[]> {
  const own = await state.committed();
  return own ? own.offsets : deps.bus.committed(deps.settings.group, deps.settings.topic);
}

export async function planRanges(deps: LoaderDeps, state: LoaderState): Promise<PartitionRange[]> {
  const { bus, settings, logger } = deps;
  const [marks, committed] = await Promise.all([
    bus.watermarks(settings.topic),
    committedOffsets(deps, state),
  ]);
  const done = new Map(committed.map((c: PartitionOffset) => [c.partition, c.offset]));
  return marks
    .map((m) => {
      const at = done.get(m.partition);
      if (at !== undefined && at < m.low) {
        // Retention deleted messages we never loaded: say so loudly, then go on from what is left.
        logger.error(
          { partition: m.partition, committed: at, low: m.low, lost: m.low - at },
          'messages expired from the bus before they were loaded',
        );
      }
      return { partition: m.partition, from: Math.max(at ?? m.low, m.low), to: m.high };
    })
    .sort((a, b) => a.partition - b.partition);
}
