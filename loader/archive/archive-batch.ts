/**
 * @module Consumed messages packed for the archive's worker thread: every
 * value copied once into one buffer that is transferred, not cloned. (A
 * message's value is often a view into the client's whole fetch buffer,
 * which a structured clone would copy entire, once per message.)
 */
import type { ConsumedMessage } from '../../shared/bus/bus.ts';

export interface PackedBatch {
  partitions: Int32Array;
  offsets: Float64Array;
  timestamps: Float64Array;
  keys: (string | null)[];
  /** Value i is bytes[ends[i-1] ?? 0, ends[i]). */
  ends: Uint32Array;
  bytes: Uint8Array;
}

export function packBatch(messages: readonly ConsumedMessage[]): PackedBatch {
  const n = messages.length;
  const ends = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += (messages[i] as ConsumedMessage).value.byteLength;
    ends[i] = total;
  }
  const bytes = new Uint8Array(total);
  const partitions = new Int32Array(n);
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const keys: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i] as ConsumedMessage;
    bytes.set(m.value, i === 0 ? 0 : (ends[i - 1] as number));
    partitions[i] = m.partition;
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
    keys[i] = m.key;
  }
  return { partitions, offsets, timestamps, keys, ends, bytes };
}

/** The buffers a batch's postMessage should transfer. */
export function transferList(batch: PackedBatch): ArrayBuffer[] {
  return [batch.partitions, batch.offsets, batch.timestamps, batch.ends, batch.bytes].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

export function* unpackBatch(batch: PackedBatch): Generator<ConsumedMessage> {
  for (let i = 0; i < batch.ends.length; i++) {
    const start = i === 0 ? 0 : (batch.ends[i - 1] as number);
    yield {
      partition: batch.partitions[i] as number,
      offset: batch.offsets[i] as number,
      timestamp: batch.timestamps[i] as number,
      key: batch.keys[i] ?? null,
      value: batch.bytes.subarray(start, batch.ends[i]),
    };
  }
}
