/**
 * @module Step "commit": the run's commit point. It runs only after every
 * file is uploaded and every partition (events and rollups) is registered.
 *
 * The loader's own record in the object store (`_loader/offsets/<topic>.json`,
 * one whole-object put naming the run) is what says the load happened: the
 * next load compares it with the pending manifest to tell a run that died
 * after this line (keep its files) from one that died before (re-read and
 * overwrite). Keeping it beside the files, not only in the consumer group,
 * means no crash needs the Kafka group to be reachable or empty to be
 * settled. The group's offsets are then moved too, so Kafka's own tools
 * (kafka-consumer-groups, lag exporters) see the loader's progress; that
 * mirror is best effort and redone by every run.
 */
import type { PartitionOffset } from '../../shared/bus/bus.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import type { LoaderState } from '../loader-state.ts';

export async function commitOffsets(
  deps: LoaderDeps,
  state: LoaderState,
  runId: string,
  ends: PartitionOffset[],
): Promise<void> {
  if (ends.length === 0) return;
  const previous = (await state.committed())?.offsets ?? [];
  const merged = new Map(previous.map((o) => [o.partition, o.offset]));
  for (const e of ends) merged.set(e.partition, e.offset);
  const offsets = [...merged]
    .map(([partition, offset]) => ({ partition, offset }))
    .sort((a, b) => a.partition - b.partition);
  await state.writeCommitted({ runId, committedAt: new Date().toISOString(), offsets });
  await mirrorToGroup(deps, offsets);
}

/** Moves the consumer group's offsets to what is loaded; a failure is only logged, the next run retries. */
export async function mirrorToGroup(deps: LoaderDeps, offsets: PartitionOffset[]): Promise<void> {
  try {
    if (deps.scope?.mirror) await deps.scope.mirror(offsets);
    else await deps.bus.commit(deps.settings.group, deps.settings.topic, offsets);
  } catch (err) {
    deps.logger.warn(
      { err, group: deps.settings.group },
      'could not move the consumer group offsets (the load is committed; the next run retries)',
    );
  }
}
