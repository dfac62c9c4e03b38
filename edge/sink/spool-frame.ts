/**
 * @module The spool's on-disk record: `[u32 length][u32 crc32][payload]`,
 * big-endian. A record is trusted only when its length fits and its CRC
 * matches, so a write torn by a crash (never acknowledged: the fsync comes
 * before the 2xx) is recognised and cut off at recovery.
 */
import { crc32 } from 'node:zlib';

const FRAME_HEADER_BYTES = 8;
/** Far above any record (an event is at most a few hundred KB): a larger length is corruption. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export function encodeFrames(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of payloads) total += FRAME_HEADER_BYTES + p.byteLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of payloads) {
    out.writeUInt32BE(p.byteLength, at);
    out.writeUInt32BE(crc32(p), at + 4);
    out.set(p, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + p.byteLength;
  }
  return out;
}

export interface DecodedFrames {
  payloads: Buffer[];
  /** Bytes up to the end of the last good record. */
  validBytes: number;
}

/** Decodes records until the end or the first bad one (torn, truncated or corrupt). */
export function decodeFrames(buf: Buffer): DecodedFrames {
  const payloads: Buffer[] = [];
  let at = 0;
  while (at + FRAME_HEADER_BYTES <= buf.byteLength) {
    const length = buf.readUInt32BE(at);
    if (length > MAX_PAYLOAD_BYTES || at + FRAME_HEADER_BYTES + length > buf.byteLength) break;
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
    if (crc32(payload) !== buf.readUInt32BE(at + 4)) break;
    payloads.push(payload);
    at += FRAME_HEADER_BYTES + length;
  }
  return { payloads, validBytes: at };
}
