/**
 * @module What a parse worker hands back for one packed batch of messages
 * (archive/archive-batch.ts): per message, in bus order, either a row (its
 * hour of `receivedAt`, the 64-bit hash of its messageId and its NDJSON
 * line) or a dead letter's reason. The lines are UTF-8 in one transferred
 * buffer, so the loader's thread appends them to its buckets without
 * touching a string; it only decides what needs one order: `until`, dedup,
 * buckets, dead letters.
 */
import type { PackedBatch } from '../archive/archive-batch.ts';
import { messageIdHash } from '../dedup/message-hash.ts';
import { hourOfMicros } from '../layout.ts';
import { rowOfMessage } from './parse-message.ts';

export interface ParsedBatch {
  /** Hour of each row's `receivedAt`; NaN for a dead letter. */
  hours: Float64Array;
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  /** Message i's line (newline included) is lines[lineEnds[i-1] ?? 0, lineEnds[i]): empty for a dead letter. */
  lineEnds: Uint32Array;
  lines: Uint8Array;
  /** Dead letters' reasons by index in the batch. */
  reasons: Map<number, string>;
}

const encoder = new TextEncoder();

export function parseBatch(batch: PackedBatch): ParsedBatch {
  const n = batch.ends.length;
  const hours = new Float64Array(n);
  const hashHi = new Uint32Array(n);
  const hashLo = new Uint32Array(n);
  const lineEnds = new Uint32Array(n);
  const reasons = new Map<number, string>();
  const text: string[] = [];
  let end = 0;
  for (let i = 0; i < n; i++) {
    const start = i === 0 ? 0 : (batch.ends[i - 1] as number);
    const row = rowOfMessage(batch.bytes.subarray(start, batch.ends[i]), batch.timestamps[i] as number);
    if (typeof row === 'string') {
      hours[i] = Number.NaN;
      reasons.set(i, row);
    } else {
      const line = `${JSON.stringify(row)}\n`;
      const hash = messageIdHash(row.message_id);
      hours[i] = hourOfMicros(row.received_at);
      hashHi[i] = hash.hi;
      hashLo[i] = hash.lo;
      text.push(line);
      end += Buffer.byteLength(line);
    }
    lineEnds[i] = end;
  }
  return { hours, hashHi, hashLo, lineEnds, lines: encoder.encode(text.join('')), reasons };
}

/** The buffers a ParsedBatch's postMessage should transfer. */
export function parsedTransferList(parsed: ParsedBatch): ArrayBuffer[] {
  return [parsed.hours, parsed.hashHi, parsed.hashLo, parsed.lineEnds, parsed.lines].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
