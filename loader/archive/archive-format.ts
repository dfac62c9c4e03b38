/**
 * @module The raw archive's format: where its objects live and what one line
 * holds. One object per (bus hour, partition) of a run, zstd-compressed
 * NDJSON, one envelope per message exactly as it was on the bus:
 *
 *   {"partition":0,"offset":41,"timestamp":1795600000000,"key":"p1:v9","value":"{\"type\":…}"}
 *
 * `value` is the message's bytes as a string when they are valid UTF-8 (every
 * message the edge writes: JSON text), else `valueBase64`; either way decoding
 * gives back the same bytes. The hour is the bus timestamp's (a dead letter
 * has no `receivedAt`), and the name is the first offset the object holds
 * (Secor's rule), so a re-run of the same range writes the same names.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { HOUR_MS, type Hour, hourPartition, type WarehouseLayout } from '../layout.ts';

const ARCHIVE_EXTENSION = '.ndjson.zst';

export interface ArchiveEnvelope {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value?: string;
  valueBase64?: string;
}

const decoder = new TextDecoder();

export function envelopeLine(m: ConsumedMessage): string {
  const utf8 = isUtf8(m.value);
  const envelope: ArchiveEnvelope = {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    ...(utf8 ? { value: decoder.decode(m.value) } : { valueBase64: Buffer.from(m.value).toString('base64') }),
  };
  return JSON.stringify(envelope);
}

/** An envelope line back to the message; null when the line is not one of ours. */
export function messageOfEnvelope(parsed: unknown): ConsumedMessage | null {
  if (parsed === null || typeof parsed !== 'object') return null;
  const e = parsed as Partial<ArchiveEnvelope>;
  if (typeof e.partition !== 'number' || typeof e.offset !== 'number' || typeof e.timestamp !== 'number')
    return null;
  let value: Uint8Array;
  if (typeof e.value === 'string') value = new Uint8Array(Buffer.from(e.value, 'utf8'));
  else if (typeof e.valueBase64 === 'string') value = new Uint8Array(Buffer.from(e.valueBase64, 'base64'));
  else return null;
  return {
    partition: e.partition,
    offset: e.offset,
    timestamp: e.timestamp,
    key: typeof e.key === 'string' ? e.key : null,
    value,
  };
}

export function busHourOf(timestampMs: number): Hour {
  return Math.floor(timestampMs / HOUR_MS);
}

/** `<prefix>archive/<topic>/dt=YYYY-MM-DD/hour=HH/` */
export function archiveHourPrefix(layout: WarehouseLayout, topic: string, hour: Hour): string {
  const p = hourPartition(hour);
  return `${layout.prefix}archive/${topic}/dt=${p.dt}/hour=${p.hour}/`;
}

export function archiveKey(
  layout: WarehouseLayout,
  topic: string,
  hour: Hour,
  partition: number,
  firstOffset: number,
): string {
  return `${archiveHourPrefix(layout, topic, hour)}${topic}-${partition}-${firstOffset}${ARCHIVE_EXTENSION}`;
}

/** The partition and first offset of an archive object's key; null for anything else. */
export function parseArchiveKey(key: string): { partition: number; firstOffset: number } | null {
  const m = /-(\d+)-(\d+)\.ndjson\.zst$/.exec(key);
  return m ? { partition: Number(m[1]), firstOffset: Number(m[2]) } : null;
}
