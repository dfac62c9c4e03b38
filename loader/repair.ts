/**
 * @module Settles what a crashed load left, before the next load reads
 * anything. The pending manifest says what the crashed load was doing:
 *
 * - a run whose id is in the committed offsets record died after its commit
 *   point: its files are the loaded data, kept as they are (the manifest is
 *   only removed, and the group's offsets mirrored again);
 * - a run that died before its commit point: its offsets were not moved, so
 *   the next run reads the same messages again; the manifest is carried into
 *   that run, which overwrites the same file names and deletes the rest;
 * - a replay or compaction that died before its swap: nothing of it is
 *   registered, its new files are deleted;
 * - a replay or compaction that died during its swap: the swap is finished;
 * - an import that died: its files are deleted and its hours' rollups
 *   recomputed (import/import.ts); importing again loads it whole.
 *
 * A compaction that finds a run dead before its commit leaves it alone (the
 * manifest comes back as `carried`): only a run can load that range again.
 *
 * No rule needs the Kafka consumer group to be reachable or empty.
 */
import { InputError } from '../shared/errors.ts';
import type { LoaderDeps } from './loader-deps.ts';
import type { LoaderState, PendingManifest } from './loader-state.ts';
import type { LoaderDuckDb } from './parquet/loader-duckdb.ts';
import { mirrorToGroup } from './steps/commit.ts';
import { writeRollups } from './steps/rollup.ts';
import { swapLocations } from './steps/swap.ts';

export interface Settled {
  /** An uncommitted run's manifest, for the next run to take over. */
  carried: PendingManifest | null;
  /** What was found and done, for the run's result and log. */
  note?: string;
}

export async function settlePending(
  deps: LoaderDeps,
  state: LoaderState,
  duckdb: LoaderDuckDb,
  command: 'run' | 'replay' | 'compact' | 'import',
): Promise<Settled> {
  const pending = await state.pending();
  if (!pending) return { carried: null };
  const settled = await settle(deps, state, duckdb, command, pending);
  if (settled.note) deps.logger.warn({ crashedRun: pending.runId }, settled.note);
  return settled;
}

async function settle(
  deps: LoaderDeps,
  state: LoaderState,
  duckdb: LoaderDuckDb,
  command: 'run' | 'replay' | 'compact' | 'import',
  pending: PendingManifest,
): Promise<Settled> {
  const id = pending.runId;
  if ((pending.command ?? 'run') === 'run') {
    const committed = await state.committed();
    if (committed !== null && committed.runId === id) {
      await state.clearPending();
      await mirrorToGroup(deps, committed.offsets);
      return { carried: null, note: `run ${id} stopped after its commit: its files are kept` };
    }
    if (command === 'replay' || command === 'import') {
      throw new InputError(
        `the last run stopped before its commit; run \`loader run\` first, then ${command}`,
        {
          status: 409,
          code: 'pending_run',
        },
      );
    }
    if (command === 'compact') {
      return {
        carried: pending,
        note: `run ${id} stopped before its commit: compaction waits for the next run`,
      };
    }
    return { carried: pending, note: `run ${id} stopped before its commit: this run loads its range again` };
  }
  if (pending.command === 'import') {
    // Its files sat in the hours' current locations, maybe already read: gone, the rollups follow.
    if (pending.keys.length > 0) await deps.store.delete(pending.keys);
    await writeRollups(deps, duckdb, pending.hours, (h) => state.eventsLocation(h));
    await state.clearPending();
    return {
      carried: null,
      note: `import ${id} stopped before it finished: its files are removed; import again`,
    };
  }
  const what = pending.command === 'compact' ? 'compaction' : 'replay';
  if (pending.phase === 'swapping' && pending.swaps) {
    await swapLocations(deps, state, duckdb, pending.swaps);
    await state.clearPending();
    return { carried: null, note: `${what} ${id} stopped during its swap: the swap is finished` };
  }
  if (pending.keys.length > 0) await deps.store.delete(pending.keys);
  await state.clearPending();
  return { carried: null, note: `${what} ${id} stopped before its swap: its new files are removed` };
}
