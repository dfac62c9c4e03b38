/**
 * @module Step "commit": the consumer group's offsets move to the end of
 * what this run wrote. It runs only after every file is uploaded and every
 * partition (events and rollups) is registered: a crash before this line is
 * repaired by running again, because the re-run reads the same offsets and
 * overwrites the same file names, and the pending manifest removes the rest.
 */
import type { PartitionOffset } from '../../shared/bus/bus.ts';
import type { LoaderDeps } from '../loader-deps.ts';

export async function commitOffsets(deps: LoaderDeps, ends: PartitionOffset[]): Promise<void> {
  if (ends.length === 0) return;
  await deps.bus.commit(deps.settings.group, deps.settings.topic, ends);
}
