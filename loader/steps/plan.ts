/**
 * @module Step "plan": the closed offset range of each partition for this
 * run, [committed, high), with the high watermarks taken once at the start,
 * so the run ends even while the edge keeps producing.
 */
import type { PartitionOffset } from '../../shared/bus/bus.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import { LoaderState } from '../loader-state.ts';

export interface PartitionRange {
  partition: number;
  from: number;
  to: number;
}

/**
 * What is loaded: the loader's own record (steps/commit.ts), or, for a
 * warehouse loaded before that record existed, the consumer group's offsets.
 * A scaled-out slot without a record of its own yet starts from the topic's
 * record a single loader left (the migration), then from the group's. A
 * scaled-out compaction reads every slot's.
 */
export async function committedOffsets(
  deps: Pick<LoaderDeps, 'bus' | 'settings' | 'scope' | 'store'>,
  state: LoaderState,
): Promise<PartitionOffset[]> {
  const { scope, settings } = deps;
  if (scope?.slotStates) {
    const layout = layoutOf(deps);
    const mine = scope.slotStates.filter((s) => s.topic === settings.topic);
    const each = await Promise.all(
      mine.map(({ state: name, partition }) =>
        committedOffsets(
          { ...deps, scope: { state: name, lock: name, partitions: [partition] } },
          new LoaderState(deps.store, layout, name),
        ),
      ),
    );
    return each.flat();
  }
  const own = await state.committed();
  if (own) return own.offsets;
  if (!scope) return deps.bus.committed(settings.group, settings.topic);
  const single = await new LoaderState(deps.store, layoutOf(deps), settings.topic).committed();
  const before = single ? single.offsets : await deps.bus.committed(settings.group, settings.topic);
  return before.filter((o) => scope.partitions?.includes(o.partition) ?? true);
}

export async function planRanges(deps: LoaderDeps, state: LoaderState): Promise<PartitionRange[]> {
  const { bus, settings, logger } = deps;
  const [marks, committed] = await Promise.all([
    bus.watermarks(settings.topic),
    committedOffsets(deps, state),
  ]);
  const done = new Map(committed.map((c: PartitionOffset) => [c.partition, c.offset]));
  const mine = deps.scope?.partitions;
  return marks
    .filter((m) => mine?.includes(m.partition) ?? true)
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
