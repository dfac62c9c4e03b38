/**
 * @module Step "swap" of a replay (and of a compaction, compaction/compact.ts):
 * each rewritten hour's partition moves to
 * the location the replay wrote, its rollups are recomputed there, and the
 * old files go. Every statement is idempotent, so a replay that died half
 * way through is finished by running this again with the same swaps (the
 * pending manifest keeps them): an hour never stays half old, half new.
 */
import { type Hour, hourLabel } from '../layout.ts';
import { type CrashPoint, crashIfAt, type LoaderDeps, layoutOf } from '../loader-deps.ts';
import type { LoaderState } from '../loader-state.ts';
import type { LoaderDuckDb } from '../parquet/loader-duckdb.ts';
import { partitionSpec, tableDefs } from './register.ts';
import { dataFilesAt, writeRollups } from './rollup.ts';

export interface HourSwap {
  hour: Hour;
  from: string;
  to: string;
}

export async function swapLocations(
  deps: LoaderDeps,
  state: LoaderState,
  duckdb: LoaderDuckDb,
  swaps: readonly HourSwap[],
  crashPoint: CrashPoint = 'mid-swap',
): Promise<void> {
  const table = tableDefs(deps).events.name;
  for (const [i, s] of swaps.entries()) {
    await deps.catalog.setPartitionLocation(table, partitionSpec(deps, s.hour, s.to));
    await state.setEventsLocation(s.hour, s.to);
    if (i === 0) crashIfAt(deps, crashPoint);
  }
  const to = new Map(swaps.map((s) => [s.hour, s.to]));
  await writeRollups(
    deps,
    duckdb,
    swaps.map((s) => s.hour),
    async (h) => to.get(h) as string,
  );
  for (const s of swaps) if (s.from !== s.to) await deleteOldLocation(deps, s.hour, s.from);
}

/** Removes an hour's previous files and their indexes (only that location's own, never a newer version below it). */
async function deleteOldLocation(deps: LoaderDeps, hour: Hour, prefix: string): Promise<void> {
  const layout = layoutOf(deps);
  const data = await dataFilesAt(deps, prefix);
  const indexes = data.map((k) => layout.indexKeyOf(k));
  if (data.length > 0) await deps.store.delete([...data, ...indexes]);
  deps.logger.info({ hour: hourLabel(hour), files: data.length, prefix }, 'swap: old files deleted');
}
