/**
 * @module Reads the raw archive back: one object's messages as a stream
 * (zstd → lines → envelopes), and an `EventBus` over the archive objects of
 * some hours, so `loader replay --source archive` feeds them through the
 * very consume → map → dedup → write path of a Kafka load (steps/consume.ts).
 * Only the reading half of the port is served; group offsets go to the real
 * bus (a replay never commits, but settling a crashed run mirrors them).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import type { ConsumedMessage, EventBus } from '../../shared/bus/bus.ts';
import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import type { Hour, WarehouseLayout } from '../layout.ts';
import { inBatches, ReadOnlyBus } from '../read-only-bus.ts';
import type { PartitionRange } from '../steps/plan.ts';
import { archiveHourPrefix, messageOfEnvelope, parseArchiveKey } from './archive-format.ts';

/** The lines of a text stream, decompressed first when `zstd`. */
function linesOf(body: Readable, zstd: boolean): AsyncIterable<string> {
  const text = zstd ? body.pipe(createZstdDecompress()) : body;
  if (zstd) body.on('error', (err) => text.destroy(err));
  return createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
}

export async function* archiveMessages(store: ObjectStore, key: string): AsyncIterable<ConsumedMessage> {
  const body = await store.getStream(key);
  if (!body) throw new Error(`archive object ${key} vanished while it was read`);
  let n = 0;
  for await (const line of linesOf(body, true)) {
    n++;
    if (line === '') continue;
    const message = messageOfEnvelope(JSON.parse(line));
    if (!message) throw new Error(`${key} line ${n} is not an archive envelope`);
    yield message;
  }
}

interface ArchiveObject {
  key: string;
  partition: number;
  firstOffset: number;
}

export class ArchiveBus extends ReadOnlyBus {
  readonly #store: ObjectStore;
  readonly #byPartition = new Map<number, ArchiveObject[]>();

  private constructor(store: ObjectStore, real: EventBus) {
    super(real, 'the archive');
    this.#store = store;
  }

  /** The archive objects of `topic` in the bus hours `hours`. */
  static async open(options: {
    store: ObjectStore;
    layout: WarehouseLayout;
    topic: string;
    hours: Iterable<Hour>;
    real: EventBus;
  }): Promise<ArchiveBus> {
    const bus = new ArchiveBus(options.store, options.real);
    for (const hour of options.hours) {
      for await (const info of options.store.list(archiveHourPrefix(options.layout, options.topic, hour))) {
        const parsed = parseArchiveKey(info.key);
        if (!parsed) continue;
        const list = bus.#byPartition.get(parsed.partition) ?? [];
        list.push({ key: info.key, ...parsed });
        bus.#byPartition.set(parsed.partition, list);
      }
    }
    for (const list of bus.#byPartition.values()) list.sort((a, b) => a.firstOffset - b.firstOffset);
    return bus;
  }

  /** Per archived partition, everything from its first archived offset on (the end is not known before reading). */
  ranges(): PartitionRange[] {
    return [...this.#byPartition]
      .map(([partition, list]) => ({
        partition,
        from: (list[0] as ArchiveObject).firstOffset,
        to: Number.MAX_SAFE_INTEGER,
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  get objects(): number {
    let n = 0;
    for (const list of this.#byPartition.values()) n += list.length;
    return n;
  }

  read(_topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]> {
    const objects = this.#byPartition.get(partition) ?? [];
    const store = this.#store;
    return inBatches(
      (async function* () {
        for (const object of objects) yield* archiveMessages(store, object.key);
      })(),
      from,
      to,
    );
  }
}
