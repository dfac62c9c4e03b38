/**
 * @module What `loader import` reads: NDJSON files on local disk (a file, or
 * every file under a directory) or every object under a prefix of the object
 * store; `.gz` (Segment's and RudderStack's S3 destinations write gzip) and
 * `.zst` (our archive) are decompressed. Each source becomes one partition of
 * a read-only `EventBus` whose offsets are line numbers, so the lines go
 * through the consume → map → dedup → write path of a load unchanged.
 *
 * A line is one of:
 * - a spec event of an export (Segment, RudderStack): no `projectId` (the
 *   `--project` one is set), no enrichment; it is placed by its own time:
 *   `receivedAt` when it carries one, else `timestamp`, `originalTimestamp`,
 *   `sentAt`, the first that parses (that time is its `receivedAt`, the
 *   warehouse's partition key); `event_time` follows the load's rule
 *   (`eventTime`, else `timestamp`). A line with none of them is refused;
 * - an envelope of our archive (archive/archive-format.ts): the message
 *   exactly as it was on the bus, its own bus timestamp.
 * Anything else is handed on as it is and becomes a dead letter with the
 * consume step's reason (not JSON, no messageId, …).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { ConsumedMessage, EventBus } from '../../shared/bus/bus.ts';
import { InputError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import { messageOfEnvelope } from '../archive/archive-format.ts';
import { inBatches, ReadOnlyBus } from '../read-only-bus.ts';
import type { PartitionRange } from '../steps/plan.ts';

export interface ImportSource {
  /** The absolute path, or the object key. */
  name: string;
  /** A short hash of the name: the import's file names start with it, so importing it again overwrites. */
  id: string;
  open(): Promise<Readable>;
}

/** Why a line is refused before parsing: its timestamp is NaN. */
export const NO_TIME = 'no receivedAt, timestamp, originalTimestamp or sentAt to place it in an hour';

const encoder = new TextEncoder();

function sourceOf(name: string, open: () => Promise<Readable>): ImportSource {
  return { name, id: createHash('sha256').update(name).digest('hex').slice(0, 12), open };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A local file or directory when the path exists; otherwise a prefix of the object store. */
export async function listSources(store: ObjectStore, where: string): Promise<ImportSource[]> {
  const local = await stat(where).catch(() => null);
  let sources: ImportSource[];
  if (local) {
    const files = local.isDirectory() ? await filesUnder(where) : [where];
    sources = files.map((f) => sourceOf(resolve(f), async () => createReadStream(f)));
  } else {
    sources = [];
    for await (const info of store.list(where)) {
      sources.push(
        sourceOf(info.key, async () => {
          const body = await store.getStream(info.key);
          if (!body) throw new Error(`${info.key} vanished while it was imported`);
          return body;
        }),
      );
    }
  }
  if (sources.length === 0) {
    throw new InputError(`nothing to import at ${where}: no such file, directory or object prefix`, {
      status: 404,
      code: 'no_source',
    });
  }
  return sources;
}

function decompressed(name: string, body: Readable): Readable {
  const inflate = name.endsWith('.gz')
    ? createGunzip()
    : name.endsWith('.zst')
      ? createZstdDecompress()
      : null;
  if (!inflate) return body;
  body.on('error', (err) => inflate.destroy(err));
  return body.pipe(inflate);
}

function firstTime(e: Record<string, unknown>): string | undefined {
  for (const field of ['receivedAt', 'timestamp', 'originalTimestamp', 'sentAt']) {
    const v = e[field];
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return v;
  }
  return undefined;
}

/** One line as the message a load reads; a NaN timestamp marks a line refused for having no time. */
function importMessage(
  line: string,
  project: string | undefined,
): Pick<ConsumedMessage, 'key' | 'value' | 'timestamp'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { key: null, value: encoder.encode(line), timestamp: 0 };
  }
  const archived = messageOfEnvelope(parsed);
  if (archived) return { key: archived.key, value: archived.value, timestamp: archived.timestamp };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { key: null, value: encoder.encode(line), timestamp: 0 };
  const e = parsed as Record<string, unknown>;
  if ((typeof e.projectId !== 'string' || e.projectId === '') && project) e.projectId = project;
  const time = firstTime(e);
  if (time === undefined) return { key: null, value: encoder.encode(line), timestamp: Number.NaN };
  e.receivedAt = time;
  return { key: null, value: encoder.encode(JSON.stringify(e)), timestamp: Date.parse(time) };
}

/** The sources as a read-only bus: partition = source, offset = line number (from 0). */
export class ImportBus extends ReadOnlyBus {
  readonly #sources: ImportSource[];
  readonly #project: string | undefined;

  constructor(sources: ImportSource[], project: string | undefined, real: EventBus) {
    super(real, 'an import');
    this.#sources = sources;
    this.#project = project;
  }

  ranges(): PartitionRange[] {
    return this.#sources.map((_, partition) => ({ partition, from: 0, to: Number.MAX_SAFE_INTEGER }));
  }

  async *read(_topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]> {
    const source = this.#sources[partition];
    if (!source) return;
    const { createInterface } = await import('node:readline');
    const lines = createInterface({
      input: decompressed(source.name, await source.open()),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    const project = this.#project;
    const messages = async function* (): AsyncIterable<ConsumedMessage> {
      let offset = -1;
      for await (const line of lines) {
        offset++;
        if (offset < from || offset >= to || line.trim() === '') continue;
        yield { partition, offset, ...importMessage(line, project) };
      }
    };
    yield* inBatches(messages(), from, to);
  }
}
