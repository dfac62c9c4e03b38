/**
 * @module The object store port: S3 (or any S3-compatible server) in
 * production, a directory in one-machine mode. Keys are '/'-separated paths
 * relative to the store's root (bucket + prefix, or directory).
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Only create: fail with a PreconditionFailed StoreError if the key exists (locks). */
  ifNoneMatch?: boolean;
}

/**
 * Where a key (or prefix) lives, in neutral terms: each query engine renders
 * it its own way (Hive `s3a://bucket/key`, DuckDB `s3://bucket/key` or a
 * path), so no adapter parses another's string.
 */
export type StoreLocation =
  /** `key` is the whole key in the bucket, the store's prefix included. */
  | { kind: 's3'; bucket: string; key: string }
  /** An absolute filesystem path. */
  | { kind: 'dir'; path: string };

export interface ObjectStore {
  /** Streams and large bodies go up in parts (multipart on S3); the object appears whole or not at all. */
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<void>;
  /** The whole object, or null when there is none: for small objects (manifests, locks, indexes). */
  get(key: string): Promise<Uint8Array | null>;
  /**
   * The object as a stream, or null when there is none: for objects too big
   * to hold in memory (Parquet files). A failure while reading destroys the
   * stream with a StoreError, as `get` would have thrown.
   */
  getStream(key: string): Promise<Readable | null>;
  /** Every object under the prefix, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(keys: string[]): Promise<void>;
  /**
   * Where a query engine reads the key (or prefix) from. `location('')` is the
   * store's root: every location of the store lies under it.
   */
  location(key: string): StoreLocation;
}
