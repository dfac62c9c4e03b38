/**
 * @module Step "write": rows that survived dedup go into one bucket per
 * (hour, bus partition); a bucket is an NDJSON file on local disk, so the
 * JavaScript heap holds at most a small write buffer per bucket whatever the
 * size of the hour. A bucket becomes a Parquet file when it reaches
 * `maxRowsPerFile` (a spill) or when its partition's range is consumed; the
 * file is named after the first offset it holds. Spills depend only on the
 * sequence of messages, so a re-run over the same offsets produces the same
 * names and overwrites what a crashed run uploaded.
 */
import { appendFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HashList } from '../dedup/hash-list.ts';
import type { Hash64 } from '../dedup/message-hash.ts';
import type { Hour } from '../layout.ts';
import type { LoaderDuckDb } from '../parquet/loader-duckdb.ts';
import type { EventRow } from './map-event.ts';

/** A Parquet file on local disk, waiting for upload. */
export interface WrittenFile {
  hour: Hour;
  partition: number;
  firstOffset: number;
  rows: number;
  bytes: number;
  localPath: string;
  hashes: HashList;
}

interface Bucket {
  hour: Hour;
  partition: number;
  firstOffset: number;
  rows: number;
  path: string;
  /** NDJSON lines (newline included) not yet on disk: text, or UTF-8 from the parse workers. */
  pending: (string | Uint8Array)[];
  pendingChars: number;
  hashes: HashList;
}

export interface HourBucketsOptions {
  dir: string;
  duckdb: LoaderDuckDb;
  maxRowsPerFile: number;
  /** Conversions to Parquet running at once; appends wait when this many are in flight. */
  convertConcurrency?: number;
  /** Characters (or bytes) buffered per bucket before they go to disk. */
  flushChars?: number;
}

export class HourBuckets {
  readonly #options: HourBucketsOptions;
  readonly #open = new Map<string, Bucket>();
  readonly #written: WrittenFile[] = [];
  readonly #converting = new Set<Promise<void>>();
  #failure: unknown;

  constructor(options: HourBucketsOptions) {
    this.#options = options;
  }

  get written(): readonly WrittenFile[] {
    return this.#written;
  }

  async append(hour: Hour, partition: number, offset: number, row: EventRow, hash: Hash64): Promise<void> {
    await this.appendLine(hour, partition, offset, `${JSON.stringify(row)}\n`, hash);
  }

  /** A row already serialised: its NDJSON line with its newline, as text or UTF-8. */
  async appendLine(
    hour: Hour,
    partition: number,
    offset: number,
    line: string | Uint8Array,
    hash: Hash64,
  ): Promise<void> {
    const id = `${hour}:${partition}`;
    let bucket = this.#open.get(id);
    if (!bucket) {
      bucket = {
        hour,
        partition,
        firstOffset: offset,
        rows: 0,
        path: join(this.#options.dir, `${hour}-${partition}-${offset}.ndjson`),
        pending: [],
        pendingChars: 0,
        hashes: new HashList(),
      };
      this.#open.set(id, bucket);
    }
    bucket.pending.push(line);
    bucket.pendingChars += line.length;
    bucket.rows++;
    bucket.hashes.push(hash);
    if (bucket.pendingChars >= (this.#options.flushChars ?? 1 << 20)) await this.#flushBuffer(bucket);
    if (bucket.rows >= this.#options.maxRowsPerFile) await this.#close(id, bucket);
  }

  /** Closes every bucket of a partition: its range is consumed. */
  async closePartition(partition: number): Promise<void> {
    for (const [id, bucket] of [...this.#open]) {
      if (bucket.partition === partition) await this.#close(id, bucket);
    }
  }

  /** Closes every bucket and waits for every conversion; rejects if any failed. */
  async closeAll(): Promise<void> {
    for (const [id, bucket] of [...this.#open]) await this.#close(id, bucket);
    await Promise.all(this.#converting);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #flushBuffer(bucket: Bucket): Promise<void> {
    if (bucket.pending.length === 0) return;
    const pending = bucket.pending;
    bucket.pending = [];
    bucket.pendingChars = 0;
    await appendFile(
      bucket.path,
      pending.every((p) => typeof p === 'string')
        ? pending.join('')
        : Buffer.concat(pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))),
    );
  }

  /**
   * Hands the bucket to DuckDB and returns once the conversion has started,
   * waiting only when `convertConcurrency` conversions are already running.
   */
  async #close(id: string, bucket: Bucket): Promise<void> {
    this.#open.delete(id);
    await this.#flushBuffer(bucket);
    if (this.#failure !== undefined) throw this.#failure;
    while (this.#converting.size >= (this.#options.convertConcurrency ?? 2))
      await Promise.race(this.#converting);
    const conversion = this.#convert(bucket).catch((err: unknown) => {
      this.#failure ??= err;
    });
    this.#converting.add(conversion);
    void conversion.finally(() => this.#converting.delete(conversion));
  }

  async #convert(bucket: Bucket): Promise<void> {
    const localPath = bucket.path.replace(/\.ndjson$/, '.parquet');
    const rows = await this.#options.duckdb.eventsToParquet(bucket.path, localPath);
    await rm(bucket.path, { force: true });
    this.#written.push({
      hour: bucket.hour,
      partition: bucket.partition,
      firstOffset: bucket.firstOffset,
      rows,
      bytes: (await stat(localPath)).size,
      localPath,
      hashes: bucket.hashes,
    });
  }
}
