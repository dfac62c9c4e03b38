/**
 * @module The on-disk frame of one record of the local log, and a reader that
 * walks frames through a file a chunk at a time.
 *
 * Frame, big-endian:
 *
 * | bytes | field                                        |
 * |-------|----------------------------------------------|
 * | 4     | body length (bytes after the CRC field)      |
 * | 4     | CRC-32 of the body                           |
 * | 1     | version (1)                                  |
 * | 8     | offset                                       |
 * | 8     | timestamp, ms since the epoch                |
 * | 4     | key length, -1 for a null key                |
 * | k     | key                                          |
 * | 4     | value length                                 |
 * | v     | value                                        |
 *
 * The length comes first so a reader knows how much to read; the CRC covers
 * everything after it, so a torn or overwritten tail is caught whatever byte
 * it stops at, and the stored offset lets recovery check that frames follow
 * one another without a gap.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

const FRAME_VERSION = 1;
const HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 1 + 8 + 8 + 4 + 4;
/** Bytes a frame adds to its key and value. */
const FRAME_OVERHEAD_BYTES = HEADER_BYTES + BODY_FIXED_BYTES;
/** No frame is larger: a bigger length field can only be garbage. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;
const TWO_32 = 2 ** 32;

export interface LogRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array;
}

export function frameSize(record: Pick<LogRecord, 'key' | 'value'>): number {
  return FRAME_OVERHEAD_BYTES + (record.key?.length ?? 0) + record.value.length;
}

function writeUint64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

function readUint64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** Writes the frame of `record` at `at`; returns the position after it. */
export function encodeFrame(buf: Buffer, at: number, record: LogRecord): number {
  const keyLength = record.key?.length ?? 0;
  const bodyLength = BODY_FIXED_BYTES + keyLength + record.value.length;
  let p = at + HEADER_BYTES;
  buf.writeUInt8(FRAME_VERSION, p);
  writeUint64(buf, record.offset, p + 1);
  writeUint64(buf, record.timestamp, p + 9);
  buf.writeInt32BE(record.key === null ? -1 : keyLength, p + 17);
  p += 21;
  if (record.key !== null) {
    buf.set(record.key, p);
    p += keyLength;
  }
  buf.writeUInt32BE(record.value.length, p);
  p += 4;
  buf.set(record.value, p);
  p += record.value.length;
  buf.writeUInt32BE(bodyLength, at);
  buf.writeUInt32BE(crc32(buf.subarray(at + HEADER_BYTES, p)), at + 4);
  return p;
}

export type DecodeResult =
  | { kind: 'frame'; record: LogRecord; size: number }
  | { kind: 'incomplete'; needed: number }
  | { kind: 'corrupt'; reason: string };

/**
 * Decodes the frame at `at` in `buf[..end)`. Key and value are views into
 * `buf`, not copies.
 */
function decodeFrame(buf: Buffer, at: number, end: number): DecodeResult {
  if (end - at < HEADER_BYTES) return { kind: 'incomplete', needed: HEADER_BYTES };
  const bodyLength = buf.readUInt32BE(at);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_FRAME_BYTES) {
    return { kind: 'corrupt', reason: `impossible frame length ${bodyLength}` };
  }
  const size = HEADER_BYTES + bodyLength;
  if (end - at < size) return { kind: 'incomplete', needed: size };
  const body = buf.subarray(at + HEADER_BYTES, at + size);
  if (crc32(body) !== buf.readUInt32BE(at + 4)) return { kind: 'corrupt', reason: 'CRC mismatch' };
  if (body[0] !== FRAME_VERSION) return { kind: 'corrupt', reason: `unknown frame version ${body[0]}` };
  const offset = readUint64(body, 1);
  const timestamp = readUint64(body, 9);
  const keyLength = body.readInt32BE(17);
  let p = 21;
  if (keyLength < -1 || p + Math.max(keyLength, 0) + 4 > bodyLength) {
    return { kind: 'corrupt', reason: 'key length out of bounds' };
  }
  const key = keyLength === -1 ? null : body.subarray(p, p + keyLength);
  p += Math.max(keyLength, 0);
  const valueLength = body.readUInt32BE(p);
  p += 4;
  if (p + valueLength !== bodyLength) return { kind: 'corrupt', reason: 'value length out of bounds' };
  return {
    kind: 'frame',
    record: { offset, timestamp, key, value: body.subarray(p, p + valueLength) },
    size,
  };
}

export type FrameStep =
  | { kind: 'frame'; record: LogRecord; position: number; size: number }
  | { kind: 'end' }
  /** The file stops inside a frame: what a crash mid-write leaves. */
  | { kind: 'torn'; position: number }
  | { kind: 'corrupt'; position: number; reason: string };

/**
 * Walks frames from `position` to `limit` (exclusive), reading `chunkBytes`
 * at a time (more when one frame is larger), so memory stays bounded
 * whatever the size of the file.
 */
export class FrameReader {
  private readonly handle: FileHandle;
  private readonly limit: number;
  private readonly chunkBytes: number;
  private buf: Buffer = Buffer.alloc(0);
  /** File position of buf[0]. */
  private bufStart: number;
  private at = 0;

  constructor(handle: FileHandle, position: number, limit: number, chunkBytes: number) {
    this.handle = handle;
    this.bufStart = position;
    this.limit = limit;
    this.chunkBytes = chunkBytes;
  }

  /** The file position of the next frame. */
  get position(): number {
    return this.bufStart + this.at;
  }

  async next(): Promise<FrameStep> {
    for (;;) {
      const position = this.position;
      if (position >= this.limit) return { kind: 'end' };
      const result = decodeFrame(this.buf, this.at, this.buf.length);
      if (result.kind === 'frame') {
        this.at += result.size;
        return { kind: 'frame', record: result.record, position, size: result.size };
      }
      if (result.kind === 'corrupt') return { kind: 'corrupt', position, reason: result.reason };
      if (position + result.needed > this.limit) return { kind: 'torn', position };
      await this.refill(Math.max(this.chunkBytes, result.needed));
    }
  }

  private async refill(wanted: number): Promise<void> {
    const start = this.position;
    const length = Math.min(wanted, this.limit - start);
    const buf = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buf, filled, length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.buf = buf.subarray(0, filled);
    this.bufStart = start;
    this.at = 0;
    if (filled < length) {
      // The file is shorter than the limit we were given: what is there is all there is.
      throw new Error(`short read at ${start}: wanted ${length} bytes, got ${filled}`);
    }
  }
}
