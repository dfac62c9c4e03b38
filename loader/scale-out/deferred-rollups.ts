/**
 * @module A scaled-out slot's rollups that waited too long for an hour's
 * lock (steps/rollup.ts: `rollupLockWaitMs`). The load does not stall: it
 * records those hours in the slot's own object,
 * `_loader/rollups-due/<group>/p<N>.json`, before its commit point, and
 * commits. The slot's next load (whichever process holds the slot then)
 * recomputes them with its own hours, under their locks, and rewrites the
 * record with whatever stayed busy again.
 *
 * Why nothing is lost or counted twice: the hours' files are uploaded and
 * registered before the rollups step, so the deferred rollups only lag; a
 * rollup is recomputed from all of its hour's files, so a redo counts each
 * event once however often it runs. Only the slot's lock holder writes the
 * record (the slot's loads are serial), so its read-modify-write needs no
 * lock of its own. A crash before the record is written is before the
 * commit point too: the slot's next load carries the pending manifest,
 * whose hours include these, and recomputes them. The redo runs under the
 * slot's lock, which a scaled-out compaction (holding every slot's lock)
 * excludes.
 */
import { type Hour, hourLabel, parseHour } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import type { LoaderDuckDb } from '../parquet/loader-duckdb.ts';
import { writeRollups } from '../steps/rollup.ts';

interface DueRecord {
  hours: string[];
}

async function readDue(deps: LoaderDeps, key: string): Promise<Hour[]> {
  const bytes = await deps.store.get(key);
  if (!bytes) return [];
  const record = JSON.parse(new TextDecoder().decode(bytes)) as DueRecord;
  return record.hours.map((h) => parseHour(h));
}

/**
 * The rollups step of a load: this load's hours, and scaled out also the
 * hours the slot left before; returns the hours left to the next load.
 */
export async function rollupsOfLoad(
  deps: LoaderDeps,
  duckdb: LoaderDuckDb,
  hours: Iterable<Hour>,
  locate: (hour: Hour) => Promise<string>,
): Promise<Hour[]> {
  const slot = deps.scope?.hourLocks ? deps.scope.lock : undefined;
  if (slot === undefined) return (await writeRollups(deps, duckdb, hours, locate)).deferred;
  const key = layoutOf(deps).rollupsDueKey(slot);
  const due = await readDue(deps, key);
  const all = [...new Set([...hours, ...due])].sort((a, b) => a - b);
  const { deferred } = await writeRollups(deps, duckdb, all, locate);
  if (deferred.length > 0) {
    const record: DueRecord = { hours: deferred.map(hourLabel) };
    await deps.store.put(key, JSON.stringify(record), { contentType: 'application/json' });
  } else if (due.length > 0) {
    await deps.store.delete([key]);
  }
  return deferred;
}
