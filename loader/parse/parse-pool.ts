/**
 * @module The parse workers of step "consume": a pool of threads
 * (parse-worker.ts) that turn packed batches of messages into rows' NDJSON
 * lines, hours and messageId hashes (parsed-batch.ts), so the JSON parse,
 * the mapping and the serialisation (≈19 µs an event, most of the loader's
 * thread before: loader/README.md, "Benchmark") run beside the loader's
 * thread and DuckDB instead of on it. Each batch crosses once each way in
 * transferred buffers, as the archive's do.
 *
 * A batch goes to the worker with the fewest batches waiting; results come
 * back as promises, which the caller awaits in bus order. A worker that
 * dies (an exception, out of memory, an exit) rejects everything it held
 * and every later call with its cause: the load fails, nothing is
 * committed, and the next run reads the same range again.
 */
import { Worker } from 'node:worker_threads';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { packBatch, transferList } from '../archive/archive-batch.ts';
import type { FromParseWorker, ToParseWorker } from './parse-worker.ts';
import type { ParsedBatch } from './parsed-batch.ts';

interface Pending {
  resolve: (parsed: ParsedBatch) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export interface ParsePoolOptions {
  threads: number;
  /** A cap on each thread's V8 heap (resourceLimits); at least 16 (below, V8 cannot even start one). */
  maxOldGenerationSizeMb?: number;
}

export class ParsePool {
  readonly #slots: Slot[];
  #nextId = 0;
  #failure: Error | undefined;
  #closed = false;

  constructor(options: ParsePoolOptions) {
    const url = new URL('./parse-worker.ts', import.meta.url);
    this.#slots = Array.from({ length: Math.max(1, options.threads) }, () => {
      const worker = new Worker(url, {
        // The loader's thread's stack (Node's default, ≈1 MB), not a worker's 4 MB: a message too
        // deep to map there is a dead letter here too, whichever path reads it.
        resourceLimits: {
          stackSizeMb: 1,
          ...(options.maxOldGenerationSizeMb
            ? { maxOldGenerationSizeMb: Math.max(16, options.maxOldGenerationSizeMb) }
            : {}),
        },
      });
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (m: FromParseWorker) => {
        const pending = slot.pending.get(m.id);
        slot.pending.delete(m.id);
        pending?.resolve(m.parsed);
      });
      worker.on('error', (err) =>
        this.#fail(slot, new Error(`parse worker failed: ${err.message}`, { cause: err })),
      );
      worker.on('exit', (code) => {
        if (!this.#closed) this.#fail(slot, new Error(`parse worker exited (${code})`));
      });
      return slot;
    });
  }

  /** The parsed batch of these messages (values copied: the caller keeps its own). */
  parse(messages: readonly ConsumedMessage[]): Promise<ParsedBatch> {
    if (this.#failure) return Promise.reject(this.#failure);
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    const batch = packBatch(messages);
    return new Promise<ParsedBatch>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, batch } satisfies ToParseWorker, transferList(batch));
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
    this.#fail(undefined, new Error('parse pool closed'));
  }

  #fail(slot: Slot | undefined, err: Error): void {
    this.#failure ??= err;
    for (const s of slot ? [slot] : this.#slots) {
      for (const p of s.pending.values()) p.reject(this.#failure);
      s.pending.clear();
    }
  }
}
