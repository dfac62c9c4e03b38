/**
 * @module One partition of the local log: an ordered list of segment files,
 * appends serialized through one queue, and reads of offset ranges.
 *
 * Invariants:
 * - Offsets are dense: segment i+1 starts where segment i ends.
 * - Appends run one batch at a time. Producers that arrive while a write (or
 *   its fsync) is under way wait in the queue and go together in the next
 *   write and fsync (group commit), so concurrent producers never interleave
 *   frames and 'always' costs one fsync per batch, not per producer.
 * - `high` moves only once a batch is durable per the fsync policy, and reads
 *   never go past it: nobody reads a record that a crash could still take back.
 */
import { mkdir, readdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { fsyncDirectory } from '../../durable-write.ts';
import { BusError } from '../../errors.ts';
import type { ConsumedMessage } from '../bus.ts';
import { frameSize, type LogRecord } from './record-frame.ts';
import { SegmentFile, type SegmentOptions } from './segment-file.ts';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface PartitionLogOptions extends SegmentOptions {
  /** A segment rolls once the next batch would take it past this size. */
  segmentBytes: number;
  fsync: FsyncPolicy;
}

export interface AppendRecord {
  key: Uint8Array | null;
  value: Uint8Array;
  timestamp: number;
}

interface PendingAppend {
  records: AppendRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const SEGMENT_NAME = /^(\d{20})\.log$/;

export class PartitionLog {
  readonly partition: number;
  private readonly dir: string;
  private readonly options: PartitionLogOptions;
  private readonly segments: SegmentFile[];
  private queue: PendingAppend[] = [];
  private draining: Promise<void> | null = null;
  private dirty = false;
  /** Set by a failed write or fsync: what is on disk is then unknown until the log is reopened. */
  private failure: BusError | null = null;
  /** The next offset to be assigned to a durable record; reads stop below it. */
  high: number;

  private constructor(partition: number, dir: string, options: PartitionLogOptions, segments: SegmentFile[]) {
    this.partition = partition;
    this.dir = dir;
    this.options = options;
    this.segments = segments;
    this.high = this.active.nextOffset;
  }

  static async open(
    partition: number,
    dir: string,
    options: PartitionLogOptions,
    logger: Logger,
  ): Promise<PartitionLog> {
    await mkdir(dir, { recursive: true });
    const bases = (await readdir(dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((base): base is string => base !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const segments: SegmentFile[] = [];
    if (bases.length === 0) {
      segments.push(await SegmentFile.create(dir, 0, options));
      await fsyncDirectory(dir);
    } else {
      for (const base of bases.slice(0, -1)) segments.push(await SegmentFile.openSealed(dir, base, options));
      const { segment, recovery } = await SegmentFile.openActive(dir, bases.at(-1)!, options);
      segments.push(segment);
      if (recovery.truncatedBytes > 0) {
        logger.warn(
          { partitionDir: dir, segment: segment.logPath, ...recovery, nextOffset: segment.nextOffset },
          'local log: truncated a torn or corrupt tail (a crash mid-write; unacknowledged records only)',
        );
      }
    }
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.baseOffset !== segments[i - 1]!.nextOffset) {
        throw new BusError(
          `local log ${dir}: segment ${segments[i]!.logPath} starts at ${segments[i]!.baseOffset} ` +
            `but the previous one ends at ${segments[i - 1]!.nextOffset}`,
          { code: 'log_corrupt' },
        );
      }
    }
    return new PartitionLog(partition, dir, options, segments);
  }

  private get active(): SegmentFile {
    return this.segments.at(-1)!;
  }

  /** First offset still held (retention would move it). */
  get low(): number {
    return this.segments[0]!.baseOffset;
  }

  /** Resolves once the records are written and durable per the fsync policy. */
  append(records: AppendRecord[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        if (this.failure !== null) throw this.failure;
        await this.write(batch.flatMap((p) => p.records));
        if (this.options.fsync === 'always') await this.active.sync();
        else this.dirty = true;
        this.high = this.active.nextOffset;
        for (const p of batch) p.resolve();
      } catch (error) {
        this.failure ??= new BusError(
          `local log ${this.dir}: write failed (${(error as Error).message}); reopen the log to recover`,
          { cause: error, code: 'log_unwritable' },
        );
        for (const p of batch) p.reject(this.failure);
      }
    }
  }

  private async write(records: AppendRecord[]): Promise<void> {
    let group: LogRecord[] = [];
    let groupBytes = 0;
    let offset = this.active.nextOffset;
    for (const r of records) {
      const size = frameSize(r);
      const used = this.active.size + groupBytes;
      if (used > 0 && used + size > this.options.segmentBytes) {
        if (group.length > 0) await this.active.append(group);
        group = [];
        groupBytes = 0;
        await this.roll();
      }
      group.push({ offset: offset++, timestamp: r.timestamp, key: r.key, value: r.value });
      groupBytes += size;
    }
    if (group.length > 0) await this.active.append(group);
  }

  private async roll(): Promise<void> {
    const sealed = this.active;
    // The sealed segment must be whole on disk before anything lands in the next one.
    if (this.options.fsync !== 'never') await sealed.sync();
    await sealed.seal();
    this.segments.push(await SegmentFile.create(this.dir, sealed.nextOffset, this.options));
    await fsyncDirectory(this.dir);
  }

  /** For the 'interval' policy: fsync what was written since the last call. */
  async syncIfDirty(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.active.sync();
  }

  /** Messages in [from, to), which the caller has checked lie within [low, high]. */
  async *read(
    from: number,
    to: number,
    batchBytes: number,
    batchRecords: number,
  ): AsyncGenerator<ConsumedMessage[]> {
    let index = this.segmentIndexOf(from);
    let reader = await this.segments[index]!.readerFrom(from);
    let next = from;
    let batch: ConsumedMessage[] = [];
    let bytes = 0;
    while (next < to) {
      const step = await reader.next();
      if (step.kind === 'end') {
        const segment = this.segments[++index];
        if (segment === undefined) throw this.corrupt(`offset ${next} is missing`);
        reader = await segment.readerFrom(next);
        continue;
      }
      if (step.kind !== 'frame') {
        throw this.corrupt(`${step.kind === 'torn' ? 'torn frame' : step.reason} at byte ${step.position}`);
      }
      const r = step.record;
      if (r.offset < next) continue;
      if (r.offset !== next) throw this.corrupt(`offset ${r.offset} where ${next} was expected`);
      batch.push({
        partition: this.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key:
          r.key === null ? null : Buffer.from(r.key.buffer, r.key.byteOffset, r.key.length).toString('utf8'),
        value: r.value,
      });
      bytes += step.size;
      next = r.offset + 1;
      if (batch.length >= batchRecords || bytes >= batchBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** The first durable offset whose timestamp is >= `timestampMs`, else the high watermark. */
  async offsetForTime(timestampMs: number): Promise<number> {
    for (const segment of this.segments) {
      const offset = await segment.offsetForTime(timestampMs);
      if (offset !== null) return Math.min(offset, this.high);
    }
    return this.high;
  }

  /** Waits for queued appends, makes everything durable and closes the files. */
  async close(): Promise<void> {
    while (this.draining !== null) await this.draining;
    try {
      if (this.failure === null) await this.active.sync();
    } finally {
      for (const segment of this.segments) await segment.close();
    }
  }

  private segmentIndexOf(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private corrupt(what: string): BusError {
    return new BusError(`local log ${this.dir}: ${what}`, { code: 'log_corrupt' });
  }
}
