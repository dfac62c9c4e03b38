/**
 * @module The archive side of step "consume": every message a run reads
 * goes, before parsing, to the archive's worker thread (archive-worker.ts),
 * which writes one local zstd stream per (bus hour, partition), named by its
 * first offset (archive-format.ts). After the consume step the files are
 * listed in the pending manifest and uploaded with the data files, so a
 * crashed run's archive objects are overwritten or deleted by the same
 * repair rules as its Parquet files.
 *
 * Why a thread: the envelope text and the compressor's plumbing were a fifth
 * of the consuming thread's time (loader/README.md, "Benchmark"); the
 * messages cross once, packed into one transferred buffer per batch.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import type { WarehouseLayout } from '../layout.ts';
import { inPool } from '../steps/upload.ts';
import { packBatch, transferList } from './archive-batch.ts';
import type { ArchivedObject } from './archive-streams.ts';
import type { ArchiveWorkerData, FromArchiveWorker, ToArchiveWorker } from './archive-worker.ts';

export type { ArchivedObject } from './archive-streams.ts';

/** Messages per batch handed to the thread, and batches it may hold unwritten: the memory bound. */
const BATCH_MESSAGES = 1000;
const MAX_IN_FLIGHT = 4;

export class ArchiveWriter {
  readonly #worker: Worker;
  #batch: ConsumedMessage[] = [];
  #inFlight = 0;
  /** Callers waiting for an acknowledgement: partitions are consumed side by side. */
  #waiting: (() => void)[] = [];
  #closing: { resolve: (objects: ArchivedObject[]) => void; reject: (err: Error) => void } | undefined;
  #failure: Error | undefined;
  #closed: ArchivedObject[] | undefined;

  constructor(options: { dir: string; layout: WarehouseLayout; topic: string }) {
    const data: ArchiveWorkerData = { dir: options.dir, prefix: options.layout.prefix, topic: options.topic };
    this.#worker = new Worker(new URL('./archive-worker.ts', import.meta.url), { workerData: data });
    this.#worker.on('message', (m: FromArchiveWorker) => {
      if (m.kind === 'ack') this.#inFlight--;
      else if (m.kind === 'closed') this.#closing?.resolve(m.objects);
      else this.#fail(new Error(`archive: ${m.message}`));
      this.#wake();
    });
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => {
      if (this.#closed === undefined) this.#fail(new Error(`archive: its thread exited (${code})`));
    });
  }

  async add(message: ConsumedMessage): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#batch.push(message);
    if (this.#batch.length >= BATCH_MESSAGES) await this.#send();
  }

  /** Ends every stream; the objects to upload, in key order. */
  async close(): Promise<ArchivedObject[]> {
    if (this.#closed) return this.#closed;
    await this.#send();
    const objects = await new Promise<ArchivedObject[]>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#closing = { resolve, reject };
      this.#post({ kind: 'close' });
    });
    this.#closed = objects;
    await this.#worker.terminate();
    return objects;
  }

  /** Ends the thread without keeping anything (a failed load); its files are in the load's temp dir. */
  async destroy(): Promise<void> {
    this.#closed ??= [];
    await this.#worker.terminate();
  }

  async #send(): Promise<void> {
    if (this.#batch.length > 0) {
      const batch = packBatch(this.#batch);
      this.#batch = [];
      this.#inFlight++;
      this.#post({ kind: 'batch', batch }, transferList(batch));
    }
    while (this.#inFlight >= MAX_IN_FLIGHT && !this.#failure)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (this.#failure) throw this.#failure;
  }

  #post(message: ToArchiveWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#closing?.reject(this.#failure);
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}

export async function uploadArchive(
  store: ObjectStore,
  objects: readonly ArchivedObject[],
  concurrency: number,
): Promise<void> {
  await inPool(objects, concurrency, async (o) => {
    await store.put(o.key, createReadStream(o.path), { contentType: 'application/zstd' });
    await rm(o.path, { force: true });
  });
}
