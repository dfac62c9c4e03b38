/**
 * @module The edge's crash-safe disk spool: where acknowledged events wait
 * while Kafka is down or slow. Append-only segment files of CRC-framed
 * records (spool-frame.ts); an append returns only after fdatasync, and a new
 * segment's directory entry is fsynced too, so whatever was acknowledged
 * survives a kill -9 or a power cut. Bounded by bytes: past `maxBytes` an
 * append fails with `spool_full` (a 503 with Retry-After), never a silent
 * drop. Segments are consumed oldest first and deleted only after the caller
 * says the bus acknowledged them, so a crash mid-drain replays a segment
 * (duplicates are removed downstream by messageId) and never loses one.
 *
 * This is not shared/bus's local log: it holds events only until Kafka takes
 * them, and has no offsets or consumers.
 */
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory } from '../../shared/durable-write.ts';
import type { Logger } from '../../shared/logger.ts';
import { SinkUnavailableError } from '../edge-errors.ts';
import { decodeFrames, encodeFrames } from './spool-frame.ts';

export interface DiskSpoolOptions {
  dir: string;
  /** Total bytes on disk the spool may hold. */
  maxBytes: number;
  /** A segment is closed for appends once it reaches this size. */
  segmentBytes: number;
  /** Retry-After of the 503 when full. */
  fullRetryAfterSeconds: number;
  logger: Logger;
}

export interface SpoolStats {
  bytes: number;
  records: number;
  segments: number;
  maxBytes: number;
}

export interface SpoolSegment {
  id: number;
  records: Buffer[];
}

interface SegmentInfo {
  id: number;
  bytes: number;
  records: number;
}

interface ActiveSegment extends SegmentInfo {
  handle: FileHandle;
}

const SUFFIX = '.seg';
const segmentName = (id: number) => `${String(id).padStart(16, '0')}${SUFFIX}`;

export class DiskSpool {
  private readonly options: DiskSpoolOptions;
  /** Closed segments, oldest first. */
  private readonly sealed: SegmentInfo[] = [];
  private active: ActiveSegment | undefined;
  private nextId = 1;
  private bytes = 0;
  private records = 0;
  /** Bytes and appends admitted but not yet on disk: counted against the bound. */
  private reservedBytes = 0;
  private pendingAppends = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(options: DiskSpoolOptions) {
    this.options = options;
  }

  /** Opens the spool, recovering what a previous process left (torn tails cut off). */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    const spool = new DiskSpool(options);
    await spool.recover();
    return spool;
  }

  private async recover(): Promise<void> {
    const { dir, logger } = this.options;
    await mkdir(dir, { recursive: true });
    const ids = (await readdir(dir))
      .filter((f) => /^\d{16}\.seg$/.test(f))
      .map((f) => Number(f.slice(0, 16)))
      .sort((a, b) => a - b);
    for (const id of ids) {
      const path = join(dir, segmentName(id));
      const buf = await readFile(path);
      const { payloads, validBytes } = decodeFrames(buf);
      if (validBytes < buf.byteLength) {
        // A torn tail was never acknowledged (fsync precedes the 2xx); cut it so appends
        // after it could never hide behind garbage.
        logger.warn(
          { segment: id, droppedBytes: buf.byteLength - validBytes },
          'spool: cut a torn segment tail',
        );
        const handle = await open(path, 'r+');
        await handle.truncate(validBytes);
        await handle.sync();
        await handle.close();
      }
      if (payloads.length === 0) {
        await unlink(path);
        continue;
      }
      this.sealed.push({ id, bytes: validBytes, records: payloads.length });
      this.bytes += validBytes;
      this.records += payloads.length;
    }
    this.nextId = (ids.at(-1) ?? 0) + 1;
    await fsyncDirectory(dir);
    if (this.records > 0) logger.info(this.stats(), 'spool: recovered events from a previous run');
  }

  stats(): SpoolStats {
    const segments = this.sealed.length + (this.active ? 1 : 0);
    return { bytes: this.bytes, records: this.records, segments, maxBytes: this.options.maxBytes };
  }

  /** True when nothing is stored and no append is under way. */
  isEmpty(): boolean {
    return this.records === 0 && this.pendingAppends === 0;
  }

  /** Whether an append of `bytes` more would fit now. */
  hasRoomFor(bytes: number): boolean {
    return this.bytes + this.reservedBytes + bytes <= this.options.maxBytes;
  }

  /** Appends records durably: resolves after fdatasync, rejects `spool_full` past the bound. */
  append(records: readonly Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('shutting_down', 'The edge is shutting down.', 1));
    const frames = encodeFrames(records);
    if (!this.hasRoomFor(frames.byteLength)) {
      return Promise.reject(
        unavailable(
          'spool_full',
          'The edge spool is full while the event bus is unavailable; retry later.',
          this.options.fullRetryAfterSeconds,
        ),
      );
    }
    this.reservedBytes += frames.byteLength;
    this.pendingAppends += 1;
    return this.exclusive(async () => {
      try {
        await this.write(frames, records.length);
      } finally {
        this.reservedBytes -= frames.byteLength;
        this.pendingAppends -= 1;
      }
    });
  }

  private async write(frames: Buffer, count: number): Promise<void> {
    if (!this.active || this.active.bytes >= this.options.segmentBytes) await this.roll();
    const active = this.active!;
    try {
      // A write may be short without an error (a disk that fills up mid-write takes what fits and
      // says ENOSPC only to the next call): the records count as spooled only once every byte is.
      for (let at = 0; at < frames.byteLength; ) {
        const { bytesWritten } = await active.handle.write(frames, at, frames.byteLength - at);
        if (bytesWritten <= 0) throw new Error('the spool file took no bytes');
        at += bytesWritten;
      }
      await active.handle.datasync();
    } catch (err) {
      // A partial write would sit in front of later records: cut back, or abandon the segment.
      await active.handle
        .truncate(active.bytes)
        .catch(() => this.roll())
        .catch(() => {});
      throw unavailable('spool_write_failed', 'The edge could not write its spool; retry later.', 5, err);
    }
    active.bytes += frames.byteLength;
    active.records += count;
    this.bytes += frames.byteLength;
    this.records += count;
  }

  private async roll(): Promise<void> {
    await this.seal();
    const id = this.nextId++;
    const handle = await open(join(this.options.dir, segmentName(id)), 'a');
    // The new file's directory entry must survive a crash as well as its bytes.
    await fsyncDirectory(this.options.dir);
    this.active = { id, bytes: 0, records: 0, handle };
  }

  private async seal(): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    await active.handle.close();
    if (active.records > 0) this.sealed.push({ id: active.id, bytes: active.bytes, records: active.records });
    else await unlink(join(this.options.dir, segmentName(active.id)));
  }

  /**
   * The oldest segment's records, for the drainer. The segment stays on disk
   * until `remove(id)`; if it is the one being appended to, it is sealed first.
   */
  takeOldest(): Promise<SpoolSegment | undefined> {
    return this.exclusive(async () => {
      if (this.sealed.length === 0 && this.active && this.active.records > 0) await this.seal();
      const oldest = this.sealed[0];
      if (!oldest) return undefined;
      const buf = await readFile(join(this.options.dir, segmentName(oldest.id)));
      const { payloads, validBytes } = decodeFrames(buf);
      if (payloads.length !== oldest.records) {
        this.options.logger.error(
          { segment: oldest.id, expected: oldest.records, readable: payloads.length, validBytes },
          'spool: segment corrupted on disk; forwarding the readable records',
        );
      }
      return { id: oldest.id, records: payloads };
    });
  }

  /** Deletes a segment once the bus has acknowledged all of its records. */
  remove(id: number): Promise<void> {
    return this.exclusive(async () => {
      const index = this.sealed.findIndex((s) => s.id === id);
      if (index < 0) return;
      const [segment] = this.sealed.splice(index, 1);
      await unlink(join(this.options.dir, segmentName(id)));
      this.bytes -= segment!.bytes;
      this.records -= segment!.records;
    });
  }

  /**
   * Moves a segment the bus refuses for good (a record it will never take) to
   * `dead/`, out of the drain but kept for an operator: never deleted.
   */
  quarantine(id: number): Promise<string> {
    return this.exclusive(async () => {
      const index = this.sealed.findIndex((s) => s.id === id);
      const deadDir = join(this.options.dir, 'dead');
      const target = join(deadDir, segmentName(id));
      if (index < 0) return target;
      const [segment] = this.sealed.splice(index, 1);
      await mkdir(deadDir, { recursive: true });
      await rename(join(this.options.dir, segmentName(id)), target);
      await fsyncDirectory(deadDir);
      await fsyncDirectory(this.options.dir);
      this.bytes -= segment!.bytes;
      this.records -= segment!.records;
      return target;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.exclusive(() => this.seal());
  }

  /** Runs `task` after every earlier one: appends, takes and removals never interleave. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => {});
    return run;
  }
}

function unavailable(code: string, message: string, retryAfterSeconds: number, cause?: unknown) {
  return new SinkUnavailableError(message, { code, retryAfterSeconds, cause });
}
