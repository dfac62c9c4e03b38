/**
 * @module Splits one produce() into requests a broker accepts: a record batch
 * over message.max.bytes (1 MiB by default) is refused whole, so a large
 * produce goes as consecutive slices, in order. Used by both Kafka adapters.
 */
import { splitBatches } from '../../batches.ts';
import type { BusMessage } from '../bus.ts';

/** Consecutive slices of at most `maxBytes` of keys and values (at least one message each). */
export function chunksOf(messages: BusMessage[], maxBytes: number): BusMessage[][] {
  return splitBatches(messages, {
    maxBytes,
    size: (m) =>
      (m.key?.length ?? 0) + (typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length),
  });
}
