/**
 * @module Splitting a list into consecutive batches under a count and a byte
 * limit, in order, written once: a Kafka produce into requests the broker
 * accepts, the edge's sink into produce calls, the Worker's queue messages
 * into sendBatch calls. An item larger than the byte limit goes alone (the
 * receiver refuses it, which is the caller's answer to give).
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
