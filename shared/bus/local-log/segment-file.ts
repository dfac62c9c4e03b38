/**
 * @module One segment of a partition of the local log: an append-only file of
 * frames (record-frame.ts) named after the offset of its first record, with a
 * sparse in-memory index (offset → file position, and the largest timestamp
 * seen before that position) so a read or a time lookup starts near its
 * target instead of at byte zero.
 *
 * When a segment is sealed (the partition rolls to a new one) its index is
 * written beside it (`<base>.index`, checksummed, temp + rename). At open a
 * sealed segment trusts that file when it matches the log's size, and scans
 * otherwise; the active (last) segment is always scanned, which is also how a
 * torn tail is found and cut off.
 *
 * Over 300 lines on purpose: append, index, recovery scan and sealing share
 * the file position and index invariants; split, each half would need them.
 */
import { type FileHandle, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeFrame, FrameReader, frameSize, type LogRecord } from './record-frame.ts';

export interface SegmentOptions {
  /** Bytes of log between two index entries. */
  indexIntervalBytes: number;
  /** Bytes read from disk at a time when scanning or reading. */
  readChunkBytes: number;
}

export interface RecoveryReport {
  /** Bytes cut from the end of the file: a torn or corrupt tail. */
  truncatedBytes: number;
  reason?: string;
}

const INDEX_MAGIC = 0x42324849; // "B2HI"
const INDEX_HEADER_BYTES = 4 + 4 + 8 * 3 + 4;
const INDEX_ENTRY_BYTES = 8 * 3;

function segmentFileName(baseOffset: number, extension: 'log' | 'index'): string {
  return `${String(baseOffset).padStart(20, '0')}.${extension}`;
}

class SegmentCorruptError extends Error {}

export class SegmentFile {
  readonly baseOffset: number;
  readonly logPath: string;
  private readonly indexPath: string;
  private readonly options: SegmentOptions;
  private handle: FileHandle | null = null;
  private writable = false;
  /** Bytes of whole frames; appends go here. */
  size = 0;
  nextOffset: number;
  /** Largest record timestamp in the segment, -1 when empty. */
  maxTimestamp = -1;
  private readonly indexOffsets: number[] = [];
  private readonly indexPositions: number[] = [];
  /** Largest timestamp of the records before the entry's position: non-decreasing. */
  private readonly indexMaxTimestampBefore: number[] = [];

  private constructor(dir: string, baseOffset: number, options: SegmentOptions) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.logPath = join(dir, segmentFileName(baseOffset, 'log'));
    this.indexPath = join(dir, segmentFileName(baseOffset, 'index'));
    this.options = options;
  }

  /** A new, empty, writable segment. The caller fsyncs the directory. */
  static async create(dir: string, baseOffset: number, options: SegmentOptions): Promise<SegmentFile> {
    const segment = new SegmentFile(dir, baseOffset, options);
    segment.handle = await open(segment.logPath, 'wx+');
    segment.writable = true;
    return segment;
  }

  /**
   * A sealed segment: read-only. Its index file is used when it matches the
   * log; otherwise the log is scanned, and any damage is an error (a sealed
   * segment was complete, so damage there is not a crash's torn tail).
   */
  static async openSealed(dir: string, baseOffset: number, options: SegmentOptions): Promise<SegmentFile> {
    const segment = new SegmentFile(dir, baseOffset, options);
    const { size } = await stat(segment.logPath);
    if (await segment.loadIndex(size)) return segment;
    const report = await segment.scan(size);
    if (report.truncatedBytes > 0) {
      await segment.close();
      throw new SegmentCorruptError(
        `sealed segment ${segment.logPath} is damaged at byte ${segment.size} (${report.reason}); ` +
          'it was complete when sealed, so the disk lost data (fsync policy "never" or "interval" and an OS crash?)',
      );
    }
    await segment.writeIndex();
    return segment;
  }

  /** The last segment: scanned, its torn or corrupt tail truncated, writable. */
  static async openActive(
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
  ): Promise<{ segment: SegmentFile; recovery: RecoveryReport }> {
    const segment = new SegmentFile(dir, baseOffset, options);
    segment.handle = await open(segment.logPath, 'r+');
    segment.writable = true;
    const { size } = await segment.handle.stat();
    const recovery = await segment.scan(size);
    if (recovery.truncatedBytes > 0) {
      await segment.handle.truncate(segment.size);
      await segment.handle.datasync();
    }
    return { segment, recovery };
  }

  private async fileHandle(): Promise<FileHandle> {
    this.handle ??= await open(this.logPath, 'r');
    return this.handle;
  }

  /** Appends whole records; offsets must continue from nextOffset. Not durable until sync(). */
  async append(records: LogRecord[]): Promise<void> {
    if (!this.writable || this.handle === null) throw new Error(`segment ${this.logPath} is sealed`);
    let total = 0;
    for (const r of records) total += frameSize(r);
    // One buffer, one write: a crash leaves at most one torn frame at the end.
    const buf = Buffer.allocUnsafe(total);
    let at = 0;
    for (const r of records) at = encodeFrame(buf, at, r);
    let written = 0;
    while (written < total) {
      const { bytesWritten } = await this.handle.write(buf, written, total - written, this.size + written);
      written += bytesWritten;
    }
    let position = this.size;
    for (const r of records) {
      const size = frameSize(r);
      this.noteRecord(r, position, size);
      position += size;
    }
  }

  async sync(): Promise<void> {
    if (this.writable && this.handle !== null) await this.handle.datasync();
  }

  /** Stops appends and writes the index file; the caller has synced as its policy says. */
  async seal(): Promise<void> {
    this.writable = false;
    await this.writeIndex();
  }

  /** Where to start reading to find `offset`: an indexed position at or before it. */
  positionOf(offset: number): number {
    const i = lastIndexBefore(this.indexOffsets, offset, true);
    return i < 0 ? 0 : this.indexPositions[i]!;
  }

  /** A reader over the whole frames present now, starting near `offset`. */
  async readerFrom(offset: number): Promise<FrameReader> {
    return new FrameReader(
      await this.fileHandle(),
      this.positionOf(offset),
      this.size,
      this.options.readChunkBytes,
    );
  }

  /** First offset in this segment whose timestamp is >= `timestampMs`, or null. */
  async offsetForTime(timestampMs: number): Promise<number | null> {
    if (this.maxTimestamp < timestampMs) return null;
    // The last entry before which every timestamp is still < the target.
    const i = lastIndexBefore(this.indexMaxTimestampBefore, timestampMs, false);
    const reader = new FrameReader(
      await this.fileHandle(),
      i < 0 ? 0 : this.indexPositions[i]!,
      this.size,
      this.options.readChunkBytes,
    );
    for (;;) {
      const step = await reader.next();
      if (step.kind !== 'frame') return null;
      if (step.record.timestamp >= timestampMs) return step.record.offset;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private noteRecord(record: LogRecord, position: number, size: number): void {
    const lastIndexed = this.indexPositions.at(-1);
    if (lastIndexed === undefined || position - lastIndexed >= this.options.indexIntervalBytes) {
      this.indexOffsets.push(record.offset);
      this.indexPositions.push(position);
      this.indexMaxTimestampBefore.push(this.maxTimestamp);
    }
    if (record.timestamp > this.maxTimestamp) this.maxTimestamp = record.timestamp;
    this.size = position + size;
    this.nextOffset = record.offset + 1;
  }

  /** Reads every frame, rebuilding the index; stops at the first bad one. */
  private async scan(fileSize: number): Promise<RecoveryReport> {
    const reader = new FrameReader(await this.fileHandle(), 0, fileSize, this.options.readChunkBytes);
    for (;;) {
      const step = await reader.next();
      if (step.kind === 'end') return { truncatedBytes: 0 };
      let reason: string;
      if (step.kind === 'frame') {
        if (step.record.offset === this.nextOffset) {
          this.noteRecord(step.record, step.position, step.size);
          continue;
        }
        reason = `offset ${step.record.offset} where ${this.nextOffset} was expected`;
      } else {
        reason = step.kind === 'torn' ? 'torn frame at the end' : step.reason;
      }
      return { truncatedBytes: fileSize - this.size, reason };
    }
  }

  private async writeIndex(): Promise<void> {
    const count = this.indexOffsets.length;
    const buf = Buffer.alloc(INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES);
    buf.writeUInt32BE(INDEX_MAGIC, 0);
    buf.writeDoubleBE(this.size, 8);
    buf.writeDoubleBE(this.nextOffset, 16);
    buf.writeDoubleBE(this.maxTimestamp, 24);
    buf.writeUInt32BE(count, 32);
    for (let i = 0; i < count; i++) {
      const at = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
      buf.writeDoubleBE(this.indexOffsets[i]!, at);
      buf.writeDoubleBE(this.indexPositions[i]!, at + 8);
      buf.writeDoubleBE(this.indexMaxTimestampBefore[i]!, at + 16);
    }
    buf.writeUInt32BE(crc32(buf.subarray(8)), 4);
    // The index is a cache of the log: no fsync; a lost or stale one is rebuilt by a scan.
    const temp = `${this.indexPath}.tmp`;
    await writeFile(temp, buf);
    await rename(temp, this.indexPath);
  }

  /** Loads the index file if it is intact and describes a log of `logSize` bytes. */
  private async loadIndex(logSize: number): Promise<boolean> {
    let buf: Buffer;
    try {
      buf = await readFile(this.indexPath);
    } catch {
      return false;
    }
    if (buf.length < INDEX_HEADER_BYTES || buf.readUInt32BE(0) !== INDEX_MAGIC) return false;
    if (crc32(buf.subarray(8)) !== buf.readUInt32BE(4)) return false;
    const count = buf.readUInt32BE(32);
    if (buf.length !== INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES) return false;
    if (buf.readDoubleBE(8) !== logSize) return false;
    this.size = logSize;
    this.nextOffset = buf.readDoubleBE(16);
    this.maxTimestamp = buf.readDoubleBE(24);
    for (let i = 0; i < count; i++) {
      const at = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
      this.indexOffsets.push(buf.readDoubleBE(at));
      this.indexPositions.push(buf.readDoubleBE(at + 8));
      this.indexMaxTimestampBefore.push(buf.readDoubleBE(at + 16));
    }
    return true;
  }
}

/**
 * Index of the last element below `value` (at or below it, `orEqual`) in a
 * non-decreasing array, -1 if none: a binary search.
 */
function lastIndexBefore(sorted: number[], value: number, orEqual: boolean): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const element = sorted[mid]!;
    if (element < value || (orEqual && element === value)) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
