/**
 * @module A bus message as a spool record: `[u32 key length][f64 timestamp]
 * [key][value]`. The key and the Kafka timestamp (the event's receivedAt)
 * are kept, so a replay from the spool lands exactly as a direct produce.
 */
import type { BusMessage } from '../../shared/bus/bus.ts';

const HEADER = 12;
const NULL_KEY = 0xffffffff;

export interface SpooledMessage {
  key: string | null;
  value: string;
  timestamp: number;
}

export function encodeSpooledMessage(m: SpooledMessage): Uint8Array {
  const key = m.key === null ? undefined : Buffer.from(m.key, 'utf8');
  const value = Buffer.from(m.value, 'utf8');
  const out = Buffer.allocUnsafe(HEADER + (key?.byteLength ?? 0) + value.byteLength);
  out.writeUInt32BE(key ? key.byteLength : NULL_KEY, 0);
  out.writeDoubleBE(m.timestamp, 4);
  if (key) out.set(key, HEADER);
  out.set(value, HEADER + (key?.byteLength ?? 0));
  return out;
}

export function decodeSpooledMessage(record: Buffer): BusMessage & { value: string; timestamp: number } {
  const keyLength = record.readUInt32BE(0);
  const timestamp = record.readDoubleBE(4);
  const hasKey = keyLength !== NULL_KEY;
  const keyEnd = HEADER + (hasKey ? keyLength : 0);
  return {
    key: hasKey ? record.toString('utf8', HEADER, keyEnd) : null,
    value: record.toString('utf8', keyEnd),
    timestamp,
  };
}
