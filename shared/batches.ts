/**
 * @module Splitting a list into consecutive batches under a count and a byte
 * limit, in order, written once: a Kafka produce into requests the broker
 * accepts, the edge's sink into produce calls, the Worker's queue messages
 * into sendBatch calls. An item larger than the byte limit goes alone (the
 * receiver refuses it, which is the caller's answer to give). `chunked` does
 * the same by count for a stream of items (an object store's keys, deleted a
 * thousand at a time).
 */

export interface BatchLimits<T> {
  /** Items in one batch; default unbounded. */
  maxCount?: number;
  /** The sum of `size` over one batch. */
  maxBytes: number;
  size: (item: T) => number;
}

export function splitBatches<T>(items: readonly T[], limits: BatchLimits<T>): T[][] {
  const maxCount = limits.maxCount ?? Number.POSITIVE_INFINITY;
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = limits.size(item);
    if (batch.length > 0 && (batch.length >= maxCount || bytes + size > limits.maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Consecutive batches of at most `size` items of an async stream, in order; the last may be shorter. */
export async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
