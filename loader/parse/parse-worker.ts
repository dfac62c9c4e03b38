/**
 * @module A parse worker thread: it takes packed batches of messages from
 * ParsePool, parses, checks and maps each (parse-message.ts) and serialises
 * the rows to NDJSON lines (parsed-batch.ts), and posts the result back with
 * the batch's id. Stateless: batches of one partition may go to different
 * workers; the pool puts the results back in order. A failure it cannot
 * turn into a dead letter ends the thread, and the pool fails the load.
 */
import { parentPort } from 'node:worker_threads';
import type { PackedBatch } from '../archive/archive-batch.ts';
import { type ParsedBatch, parseBatch, parsedTransferList } from './parsed-batch.ts';

export type ToParseWorker = { id: number; batch: PackedBatch };
export type FromParseWorker = { id: number; parsed: ParsedBatch };

const port = parentPort;
if (port) {
  port.on('message', ({ id, batch }: ToParseWorker) => {
    const parsed = parseBatch(batch);
    port.postMessage({ id, parsed } satisfies FromParseWorker, parsedTransferList(parsed));
  });
}
