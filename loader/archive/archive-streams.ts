/**
 * @module The raw archive's local files: one zstd stream per (bus hour,
 * partition) of a run, named by its first offset (archive-format.ts). It runs
 * inside the archive's worker thread (archive-worker.ts), so the envelope
 * text and the compressor's plumbing cost the consuming thread nothing.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { constants, createZstdCompress, type ZstdCompress } from 'node:zlib';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import type { WarehouseLayout } from '../layout.ts';
import { archiveKey, busHourOf, envelopeLine } from './archive-format.ts';

/** zstd level 3 (its default): measured in the README against the load's cost. */
const LEVEL = 3;
const FLUSH_CHARS = 1 << 20;
/**
 * The compressor's output chunk: 16 KB (Node's default) costs a round trip
 * between the thread pool and this thread per 16 KB of output.
 */
const CHUNK_BYTES = 1 << 18;

interface Stream {
  key: string;
  path: string;
  zstd: ZstdCompress;
  file: WriteStream;
  pending: string[];
  pendingChars: number;
  messages: number;
}

export interface ArchivedObject {
  key: string;
  path: string;
  messages: number;
  bytes: number;
}

export class ArchiveStreams {
  readonly #dir: string;
  readonly #layout: WarehouseLayout;
  readonly #topic: string;
  readonly #open = new Map<string, Stream>();

  constructor(options: { dir: string; layout: WarehouseLayout; topic: string }) {
    this.#dir = options.dir;
    this.#layout = options.layout;
    this.#topic = options.topic;
  }

  async add(message: ConsumedMessage): Promise<void> {
    const hour = busHourOf(message.timestamp);
    const id = `${hour}:${message.partition}`;
    let s = this.#open.get(id);
    if (!s) {
      const path = join(this.#dir, `archive-${hour}-${message.partition}-${message.offset}.zst`);
      const zstd = createZstdCompress({
        chunkSize: CHUNK_BYTES,
        params: { [constants.ZSTD_c_compressionLevel]: LEVEL },
      });
      const file = createWriteStream(path);
      zstd.pipe(file);
      s = {
        key: archiveKey(this.#layout, this.#topic, hour, message.partition, message.offset),
        path,
        zstd,
        file,
        pending: [],
        pendingChars: 0,
        messages: 0,
      };
      this.#open.set(id, s);
    }
    const line = envelopeLine(message);
    s.pending.push(line);
    s.pendingChars += line.length + 1;
    s.messages++;
    if (s.pendingChars >= FLUSH_CHARS) await flush(s);
  }

  /** Ends every stream; the objects to upload, in key order. */
  async close(): Promise<ArchivedObject[]> {
    const out: ArchivedObject[] = [];
    for (const s of this.#open.values()) {
      await flush(s);
      s.zstd.end();
      await finished(s.file);
      out.push({ key: s.key, path: s.path, messages: s.messages, bytes: (await stat(s.path)).size });
    }
    this.#open.clear();
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

async function flush(s: Stream): Promise<void> {
  if (s.pending.length === 0) return;
  const text = `${s.pending.join('\n')}\n`;
  s.pending = [];
  s.pendingChars = 0;
  if (!s.zstd.write(text)) await new Promise<void>((resolve) => s.zstd.once('drain', resolve));
}
