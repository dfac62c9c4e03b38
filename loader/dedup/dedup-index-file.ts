/**
 * @module The persisted dedup index: one small object beside each Parquet
 * file, holding the sorted 64-bit hashes of the messageIds in that file.
 * Format: "BHX1", a u32 count, then the hashes as little-endian u64, sorted.
 * 8 bytes an event: 8 MB per million events (a Parquet file of the same
 * events is about 90 MB), so reading a 24-hour horizon back is cheap.
 * Sorted, so two indexes merge or binary-search without a decode step.
 */
import { StoreError } from '../../shared/errors.ts';
import type { HashList } from './hash-list.ts';
import type { Hash64 } from './message-hash.ts';

const MAGIC = 0x31584842; // "BHX1" little-endian

export function encodeDedupIndex(hashes: HashList): Uint8Array {
  const values = hashes.sorted();
  const out = new Uint8Array(8 + values.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, values.length, true);
  for (let i = 0; i < values.length; i++) view.setBigUint64(8 + i * 8, values[i] as bigint, true);
  return out;
}

/** Calls `visit` with each hash of an index; throws a StoreError on a file that is not one. */
export function forEachIndexedHash(bytes: Uint8Array, key: string, visit: (h: Hash64) => void): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8 || view.getUint32(0, true) !== MAGIC) {
    throw new StoreError(
      `dedup index ${key} is not an index file (bad magic); delete it and replay its hour`,
    );
  }
  const count = view.getUint32(4, true);
  if (bytes.byteLength !== 8 + count * 8) {
    throw new StoreError(`dedup index ${key} is truncated: ${bytes.byteLength} bytes for ${count} hashes`);
  }
  for (let i = 0; i < count; i++) {
    const offset = 8 + i * 8;
    visit({ lo: view.getUint32(offset, true), hi: view.getUint32(offset + 4, true) });
  }
  return count;
}
