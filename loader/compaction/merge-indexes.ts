/**
 * @module The dedup index of a compacted hour: the union of the indexes of
 * the files it replaces, stored as one index beside its first part. Dedup
 * reads every index of an hour's location (steps/dedup.ts), so one index per
 * location answers the same as one per file; merging the stored hashes
 * rather than hashing the rows again keeps it independent of how a load
 * computes them.
 */
import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import { encodeDedupIndex, forEachIndexedHash } from '../dedup/dedup-index-file.ts';
import { HashList } from '../dedup/hash-list.ts';

export async function mergeIndexes(
  store: ObjectStore,
  indexKeys: readonly string[],
): Promise<{ body: Uint8Array; hashes: number; missing: string[] }> {
  const list = new HashList();
  const missing: string[] = [];
  for (const key of indexKeys) {
    const bytes = await store.get(key);
    if (!bytes) {
      missing.push(key);
      continue;
    }
    forEachIndexedHash(bytes, key, (h) => list.push(h));
  }
  return { body: encodeDedupIndex(list), hashes: list.length, missing };
}
