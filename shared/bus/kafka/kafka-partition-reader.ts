/**
 * @module Reads one closed offset range [from, to) of one Kafka partition
 * with kafkajs, which has no manual partition assignment: a consumer joins a
 * throwaway group (unique id, nothing committed, deleted afterwards) whose
 * assigner hands it exactly that partition, seeks to `from` when it joins,
 * and stops once it has passed `to`.
 *
 * Why a throwaway group and not the caller's: the caller (the loader)
 * commits through the admin API after its load, which needs its own group to
 * have no live members; and a read never moves the caller's offsets.
 *
 * Memory stays bounded: each fetch is at most `maxBytesPerPartition`, and
 * the consumer's batch handler waits until the reader has taken the previous
 * batch, so kafkajs fetches no further ahead than one batch.
 */
import { randomUUID } from 'node:crypto';
import type { Assigner, Consumer, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { ConsumedMessage } from '../bus.ts';
import { toBusError } from './kafka-error.ts';
import { registerLz4Codec } from './lz4-codec.ts';

const { AssignerProtocol } = kafkajs;
// A reader decodes what any producer of the pipeline writes, lz4 included.
registerLz4Codec();

export interface PartitionReadOptions {
  brokers: readonly string[];
  groupPrefix: string;
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
  retries: number;
  /** Removes the throwaway group once the read is over (best effort). */
  deleteGroup(groupId: string): Promise<void>;
}

/** Hands the topic's one wanted partition to the group's first (only) member. */
function singlePartitionAssigner(topic: string, partition: number): () => Assigner {
  const name = 'B2HSinglePartition';
  return () => ({
    name,
    version: 1,
    async assign({ members }) {
      return members.map((member, i) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: [partition] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}

type Delivery =
  | { kind: 'batch'; messages: ConsumedMessage[] }
  | { kind: 'end' }
  | { kind: 'error'; error: unknown };

/** A one-slot hand-off between kafkajs' push (eachBatch) and the reader's pull. */
class Handoff {
  private items: Delivery[] = [];
  private waiter: ((d: Delivery) => void) | null = null;
  private taken: (() => void) | null = null;
  closed = false;

  /** Resolves once the reader took it (or stopped reading): the backpressure. */
  put(d: Delivery): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(d);
      return d.kind === 'batch' ? new Promise((resolve) => (this.taken = resolve)) : Promise.resolve();
    }
    this.items.push(d);
    return d.kind === 'batch' ? new Promise((resolve) => (this.taken = resolve)) : Promise.resolve();
  }

  take(): Promise<Delivery> {
    this.releaseProducer();
    const next = this.items.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    this.closed = true;
    this.releaseProducer();
  }

  private releaseProducer(): void {
    const t = this.taken;
    this.taken = null;
    t?.();
  }
}

export async function* readKafkaPartition(
  kafka: Kafka,
  options: PartitionReadOptions,
  topic: string,
  partition: number,
  from: number,
  to: number,
): AsyncGenerator<ConsumedMessage[]> {
  const groupId = `${options.groupPrefix}-read-${randomUUID()}`;
  const consumer: Consumer = kafka.consumer({
    groupId,
    partitionAssigners: [singlePartitionAssigner(topic, partition)],
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxBytes: options.maxBytesPerPartition,
    maxWaitTimeInMs: 250,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
    allowAutoTopicCreation: false,
    retry: { retries: options.retries, restartOnFailure: async () => false },
  });
  const handoff = new Handoff();
  /** The next offset to hand out; a rejoin seeks back here, and anything before it is dropped. */
  let next = from;

  consumer.on(consumer.events.GROUP_JOIN, () => {
    consumer.seek({ topic, partition, offset: String(next) });
  });
  consumer.on(consumer.events.CRASH, (event) => {
    void handoff.put({ kind: 'error', error: event.payload.error });
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (handoff.closed || batch.partition !== partition) return;
        const messages: ConsumedMessage[] = [];
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < next || offset >= to) continue;
          messages.push({
            partition,
            offset,
            key: m.key === null ? null : m.key.toString('utf8'),
            value: m.value ?? new Uint8Array(0),
            timestamp: Number(m.timestamp),
          });
        }
        if (messages.length > 0) {
          next = messages.at(-1)!.offset + 1;
          await handoff.put({ kind: 'batch', messages });
        }
        // lastOffset() also counts control records, so a range ending in one still ends.
        if (Number(batch.lastOffset()) + 1 >= to) {
          next = Math.max(next, to);
          await handoff.put({ kind: 'end' });
        }
      },
    });
    while (next < to) {
      const d = await handoff.take();
      if (d.kind === 'error') throw d.error;
      if (d.kind === 'end') break;
      yield d.messages;
    }
  } catch (error) {
    throw toBusError(`reading ${topic}/${partition} [${from}, ${to})`, error, options.brokers);
  } finally {
    handoff.close();
    await consumer.disconnect().catch(() => {});
    // Best effort: an empty group with no offsets also expires by itself.
    await options.deleteGroup(groupId).catch(() => {});
  }
}
