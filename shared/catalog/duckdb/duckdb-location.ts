/**
 * @module How the embedded DuckDB catalog names a location in its metadata
 * (duckdb-metadata.ts), and reads the name back: `s3://bucket/key`, DuckDB's
 * own scheme for S3, or a directory's absolute path. Only this adapter's own
 * names are parsed here; other engines render the neutral `StoreLocation` in
 * their own terms.
 */
import { isAbsolute } from 'node:path';
import type { StoreLocation } from '../../object-store/object-store.ts';

export function duckdbLocation(location: StoreLocation): string {
  return location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
}

/**
 * The location a stored name stands for, or null for a name this adapter never
 * writes. Metadata written before locations were neutral names S3 objects
 * `s3a://…`, which reads the same.
 */
export function storedLocation(name: string): StoreLocation | null {
  const s3 = /^s3a?:\/\/([^/]+)\/(.*)$/s.exec(name);
  if (s3) return { kind: 's3', bucket: s3[1]!, key: s3[2]! };
  return isAbsolute(name) ? { kind: 'dir', path: name } : null;
}
