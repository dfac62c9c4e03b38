/**
 * @module The archive's worker thread: it takes the consumed messages in
 * packed batches (archive-batch.ts) from ArchiveWriter, in order, and writes
 * them through ArchiveStreams. Each batch is acknowledged once written, which
 * is the writer's backpressure; a failure is reported and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WarehouseLayout } from '../layout.ts';
import { type PackedBatch, unpackBatch } from './archive-batch.ts';
import { type ArchivedObject, ArchiveStreams } from './archive-streams.ts';

export type ToArchiveWorker = { kind: 'batch'; batch: PackedBatch } | { kind: 'close' };
export type FromArchiveWorker =
  | { kind: 'ack' }
  | { kind: 'closed'; objects: ArchivedObject[] }
  | { kind: 'error'; message: string };

export interface ArchiveWorkerData {
  dir: string;
  prefix: string;
  topic: string;
}

const port = parentPort;
if (port) {
  const data = workerData as ArchiveWorkerData;
  const streams = new ArchiveStreams({
    dir: data.dir,
    layout: new WarehouseLayout(data.prefix),
    topic: data.topic,
  });
  // Messages are handled one after another, so the lines keep the bus order.
  let chain = Promise.resolve();
  port.on('message', (message: ToArchiveWorker) => {
    chain = chain.then(async () => {
      try {
        if (message.kind === 'batch') {
          for (const m of unpackBatch(message.batch)) await streams.add(m);
          port.postMessage({ kind: 'ack' } satisfies FromArchiveWorker);
        } else {
          port.postMessage({ kind: 'closed', objects: await streams.close() } satisfies FromArchiveWorker);
        }
      } catch (err) {
        port.postMessage({
          kind: 'error',
          message: err instanceof Error ? err.message : String(err),
        } satisfies FromArchiveWorker);
        port.close();
      }
    });
  });
}
