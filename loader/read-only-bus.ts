/**
 * @module What every read-only stand-in for the bus shares (the raw archive
 * in a replay, the files of an import). A load reads them through the same
 * consume step as Kafka, so they answer the EventBus port: their offsets
 * are their own, producing and topics are refused, and consumer-group
 * offsets stay the real bus's.
 */
import type { ConsumedMessage, EventBus, PartitionOffset, PartitionOffsets } from '../shared/bus/bus.ts';
import { BusError } from '../shared/errors.ts';
import type { PartitionRange } from './steps/plan.ts';

/** Messages handed to the consume step at a time. */
const BATCH = 1000;

export abstract class ReadOnlyBus implements EventBus {
  readonly #real: EventBus;
  readonly #what: string;

  /** `what` names the source in errors ("the archive", "an import"). */
  protected constructor(real: EventBus, what: string) {
    this.#real = real;
    this.#what = what;
  }

  /** Per partition, the offsets to read; `to` may be open-ended (MAX_SAFE_INTEGER) when only reading finds the end. */
  abstract ranges(): PartitionRange[];

  abstract read(topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]>;

  async watermarks(): Promise<PartitionOffsets[]> {
    return this.ranges().map((r) => ({ partition: r.partition, low: r.from, high: r.to }));
  }

  offsetsForTime(): Promise<PartitionOffset[]> {
    throw new BusError(`${this.#what} is read by its own ranges, not by timestamp`, { code: 'unsupported' });
  }

  ensureTopic(): Promise<void> {
    throw new BusError(`${this.#what} is read-only`, { code: 'unsupported' });
  }

  produce(): Promise<void> {
    throw new BusError(`${this.#what} is read-only`, { code: 'unsupported' });
  }

  committed(group: string, topic: string): Promise<PartitionOffset[]> {
    return this.#real.committed(group, topic);
  }

  commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    return this.#real.commit(group, topic, offsets);
  }

  /** The real bus is the caller's to close. */
  async close(): Promise<void> {}
}

/** The messages of one ordered stream whose offsets are in [from, to), in batches. */
export async function* inBatches(
  messages: AsyncIterable<ConsumedMessage>,
  from: number,
  to: number,
): AsyncIterable<ConsumedMessage[]> {
  let batch: ConsumedMessage[] = [];
  for await (const m of messages) {
    if (m.offset < from || m.offset >= to) continue;
    batch.push(m);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
