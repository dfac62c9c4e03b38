/**
 * @module A second Kafka adapter of the bus port, through @platformatic/kafka
 * (needs Node >= 22.22 or >= 24.6), kept beside the kafkajs one so the
 * benchmark, not habit, picks the client (README.md, "Measurements").
 *
 * - Produce: one idempotent producer, acks=-1, compression configurable
 *   (gzip, or lz4/snappy through the client's WebAssembly codecs, or zstd
 *   through node:zlib; all without native downloads). Unlike kafkajs it
 *   pipelines idempotent requests. Partitions are chosen here with Kafka's
 *   murmur2 (key-partitioner.ts), as the kafkajs adapter and the local log
 *   do, so one key lands in the same partition whichever client wrote it;
 *   keyless messages of one produce() share one partition. A large produce()
 *   goes as several requests of at most `maxRequestBytes`, in order.
 * - Offsets, times, committed offsets and commits go through the Admin
 *   client. A commit is an OffsetCommit without a member
 *   (alterConsumerGroupOffsets), which Kafka accepts only while the group has
 *   no live member, the same rule as the kafkajs adapter; a busy group is
 *   refused with `group_busy` after a describeGroups check.
 * - Reads use raw Fetch requests, no group (platformatic-kafka-partition-reader.ts).
 * - Every failure becomes a BusError (platformatic-kafka-error.ts). The
 *   client's own defaults are overridden where they differ from the kafkajs
 *   adapter: topics are never auto-created, retries and timeouts are ours.
 *
 * Near 400 lines, mostly the config schema and its comments and the group
 * checks a commit needs; reading and error mapping are already their own
 * files. Splitting the admin calls out would be the next cut.
 *
 * Over 300 lines: one adapter of the bus port (produce, read, commit,
 * watermarks, topics) and its settings; its reader and errors already live
 * beside it.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import { pino } from 'pino';
import { z } from 'zod';
import { kafkaClientFields } from '../../adapters-config.ts';
import { splitBatches } from '../../batches.ts';
import { BusError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { BusMessage, ConsumedMessage, EventBus, PartitionOffset, PartitionOffsets } from '../bus.ts';
import { partitionForKey } from '../key-partitioner.ts';
import { checkReadRange } from '../read-range.ts';
import { hasKafkaError, toBusErrorFromPlatformatic } from './platformatic-kafka-error.ts';
import { readPlatformaticPartition } from './platformatic-kafka-partition-reader.ts';

const platformaticKafkaBusConfigSchema = z.object({
  ...kafkaClientFields,
  /** Between two retries of one operation. */
  retryDelayMs: z.number().int().min(0).default(250),
  /**
   * gzip by default, which every reader decodes; lz4 too with the kafkajs
   * adapter's codec (shared/bus/kafka/lz4-codec.ts); snappy and zstd need every
   * reader on this client.
   */
  compression: z.enum(['gzip', 'lz4', 'snappy', 'zstd', 'none']).default('gzip'),
});

export type PlatformaticKafkaBusConfig = z.input<typeof platformaticKafkaBusConfigSchema>;
type ParsedConfig = z.output<typeof platformaticKafkaBusConfigSchema>;

export function createPlatformaticKafkaBus(
  config: PlatformaticKafkaBusConfig,
  logger?: Logger,
): PlatformaticKafkaBus {
  return new PlatformaticKafkaBus(
    platformaticKafkaBusConfigSchema.parse(config),
    logger ?? pino({ level: 'silent' }),
  );
}

const toBuffer = (v: string | Uint8Array): Buffer =>
  typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.length);

interface PendingProduce {
  topic: string;
  messages: BusMessage[];
  resolve(): void;
  reject(error: unknown): void;
}

export class PlatformaticKafkaBus implements EventBus {
  private readonly config: ParsedConfig;
  private readonly logger: Logger;
  private producerClient: Producer | null = null;
  private adminClient: Admin | null = null;
  private closed = false;
  private pending: PendingProduce[] = [];
  private sending = false;

  constructor(config: ParsedConfig, logger: Logger) {
    this.config = config;
    this.logger = logger;
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    await this.withAdmin(`creating topic ${topic}`, async (admin) => {
      try {
        await admin.createTopics({
          topics: [topic],
          partitions,
          replicas: this.config.replicationFactor,
        });
      } catch (error) {
        if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
      }
      // As kafkajs' waitForLeaders: the topic is usable once every partition has a leader.
      for (let attempt = 0; ; attempt++) {
        const info = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic);
        if (info?.partitions.every((p) => p.leader >= 0)) return;
        if (attempt >= 50) throw new BusError(`Kafka: topic ${topic} has partitions without a leader`);
        await sleep(100);
      }
    });
  }

  async produce(topic: string, messages: BusMessage[]): Promise<void> {
    this.checkOpen();
    if (messages.length === 0) return;
    const done = new Promise<void>((resolve, reject) =>
      this.pending.push({ topic, messages, resolve, reject }),
    );
    if (!this.sending) void this.sendPending();
    await done;
  }

  /**
   * One send at a time; calls that arrive meanwhile go together in the next
   * (as the local log's group commit), each call's messages in order.
   *
   * Why not concurrent sends: with several sends in flight to one partition,
   * @platformatic/kafka 2.12 can dispatch them out of the order it numbered
   * them, gets OUT_OF_ORDER_SEQUENCE_NUMBER, "recovers" under a new producer
   * id and resends: the contract's concurrent-producers test saw 520
   * messages for 500 sent. Coalescing keeps the throughput of big batches
   * without that race.
   */
  private async sendPending(): Promise<void> {
    this.sending = true;
    try {
      while (this.pending.length > 0) {
        const topic = this.pending[0]!.topic;
        const calls = this.pending.filter((c) => c.topic === topic);
        this.pending = this.pending.filter((c) => c.topic !== topic);
        const messages = calls.flatMap((c) => c.messages);
        try {
          await this.send(topic, messages);
          for (const c of calls) c.resolve();
        } catch (error) {
          const busError = toBusErrorFromPlatformatic(
            `producing ${messages.length} messages to ${topic}`,
            error,
            this.config.brokers,
          );
          for (const c of calls) c.reject(busError);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async send(topic: string, messages: BusMessage[]): Promise<void> {
    const producer = this.producer();
    const partitions = await this.partitionCount(producer, topic);
    // Keyless messages of one send share a partition, as the kafkajs adapter's sticky choice does.
    const keyless = Math.floor(Math.random() * partitions);
    const now = BigInt(Date.now());
    // Each key and value is encoded to bytes once: the partitioner, the request size and the record
    // all read the same Buffer (the edge's profile had each key encoded twice, each value sized twice).
    const records = messages.map((m) => {
      const key = m.key === null ? undefined : Buffer.from(m.key, 'utf8');
      return {
        topic,
        partition: key === undefined ? keyless : partitionForKey(key, partitions),
        ...(key === undefined ? {} : { key }),
        value: toBuffer(m.value),
        timestamp: m.timestamp === undefined ? now : BigInt(m.timestamp),
      };
    });
    const requests = splitBatches(records, {
      maxBytes: this.config.maxRequestBytes,
      size: (r) => (r.key?.length ?? 0) + r.value.length,
    });
    for (const request of requests) await producer.send({ messages: request });
  }

  async watermarks(topic: string): Promise<PartitionOffsets[]> {
    return this.withAdmin(`reading the watermarks of ${topic}`, async (admin) => {
      const count = await this.partitionCount(admin, topic);
      const [low, high] = await Promise.all([
        this.listOffsets(admin, topic, count, ListOffsetTimestamps.EARLIEST),
        this.listOffsets(admin, topic, count, ListOffsetTimestamps.LATEST),
      ]);
      return [...low].map(([partition, l]) => ({ partition, low: l, high: high.get(partition) ?? l }));
    });
  }

  async offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]> {
    return this.withAdmin(`finding offsets of ${topic} at ${timestampMs}`, async (admin) => {
      const count = await this.partitionCount(admin, topic);
      const [at, high] = await Promise.all([
        this.listOffsets(admin, topic, count, BigInt(timestampMs)),
        this.listOffsets(admin, topic, count, ListOffsetTimestamps.LATEST),
      ]);
      // Kafka answers -1 where no record is that late: the port wants the high watermark.
      return [...at].map(([partition, o]) => ({ partition, offset: o < 0 ? high.get(partition)! : o }));
    });
  }

  async *read(topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]> {
    const marks = (await this.watermarks(topic)).find((w) => w.partition === partition);
    checkReadRange(topic, partition, from, to, marks);
    if (from === to) return;
    yield* readPlatformaticPartition(
      {
        brokers: this.config.brokers,
        clientId: this.config.clientId,
        groupPrefix: this.config.readGroupPrefix,
        maxBytes: this.config.readMaxBytes,
        connectTimeoutMs: this.config.connectionTimeoutMs,
        requestTimeoutMs: this.config.requestTimeoutMs,
        retries: this.config.retries,
        retryDelayMs: this.config.retryDelayMs,
      },
      topic,
      partition,
      from,
      to,
    );
  }

  async committed(group: string, topic: string): Promise<PartitionOffset[]> {
    return this.withAdmin(`reading the offsets of group ${group}`, async (admin) => {
      const count = await this.partitionCount(admin, topic);
      const groups = await admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId: group,
            topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, i) => i) }],
          },
        ],
      });
      return groups
        .flatMap((g) => g.topics)
        .filter((t) => t.name === topic)
        .flatMap((t) => t.partitions)
        .map((p) => ({ partition: p.partitionIndex, offset: Number(p.committedOffset) }))
        .filter((p) => p.offset >= 0)
        .sort((a, b) => a.partition - b.partition);
    });
  }

  async commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.withAdmin(`committing offsets of group ${group}`, async (admin) => {
      await this.checkGroupIdle(admin, group);
      try {
        await admin.alterConsumerGroupOffsets({
          groupId: group,
          topics: [
            {
              name: topic,
              partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
            },
          ],
        });
      } catch (error) {
        // A member joined between the check and the commit.
        if (hasKafkaError(error, 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS')) {
          throw groupBusy(group, 'a member joined');
        }
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([
      this.producerClient?.close().catch(() => {}),
      this.adminClient?.close().catch(() => {}),
    ]);
  }

  private checkOpen(): void {
    if (this.closed) throw new BusError('Kafka: the bus is closed', { code: 'closed' });
  }

  /** Options every client of this bus shares; the client's own defaults differ (retries 3, no timeouts of ours). */
  private baseOptions() {
    return {
      clientId: this.config.clientId,
      bootstrapBrokers: [...this.config.brokers],
      connectTimeout: this.config.connectionTimeoutMs,
      requestTimeout: this.config.requestTimeoutMs,
      retries: this.config.retries,
      retryDelay: this.config.retryDelayMs,
      autocreateTopics: false,
    };
  }

  private producer(): Producer {
    this.producerClient ??= new Producer({
      ...this.baseOptions(),
      // An idempotent producer here takes retries <= 1 as "retry forever" (and a
      // dead broker would hang produce()), so it gets at least 2.
      retries: Math.max(2, this.config.retries),
      // The client also caps an idempotent producer at one request in flight per broker.
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.config.compression,
    });
    return this.producerClient;
  }

  private admin(): Admin {
    this.adminClient ??= new Admin(this.baseOptions());
    return this.adminClient;
  }

  private async withAdmin<T>(what: string, run: (admin: Admin) => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await run(this.admin());
    } catch (error) {
      throw toBusErrorFromPlatformatic(what, error, this.config.brokers);
    }
  }

  private async partitionCount(client: Admin | Producer, topic: string): Promise<number> {
    const info = (await client.metadata({ topics: [topic] })).topics.get(topic);
    if (info === undefined) {
      throw new BusError(`Kafka: topic ${topic} does not exist`, { code: 'unknown_topic' });
    }
    return info.partitionsCount;
  }

  /** partition → offset at `timestamp` (or EARLIEST/LATEST), READ_UNCOMMITTED so LATEST is the high watermark. */
  private async listOffsets(
    admin: Admin,
    topic: string,
    count: number,
    timestamp: bigint,
  ): Promise<Map<number, number>> {
    const topics = await admin.listOffsets({
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
        },
      ],
    });
    const out = new Map<number, number>();
    for (const t of topics) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) out.set(p.partitionIndex, Number(p.offset));
    }
    return new Map([...out].sort((a, b) => a[0] - b[0]));
  }

  private async checkGroupIdle(admin: Admin, group: string): Promise<void> {
    let state: string | undefined;
    try {
      state = (await admin.describeGroups({ groups: [group] })).get(group)?.state;
    } catch (error) {
      // Newer brokers answer GROUP_ID_NOT_FOUND for a group that never existed: idle.
      if (!hasKafkaError(error, 'GROUP_ID_NOT_FOUND')) throw error;
    }
    if (state !== undefined && !['EMPTY', 'DEAD', 'Empty', 'Dead'].includes(state)) {
      this.logger.debug({ group, state }, 'refusing to commit for a group with live members');
      throw groupBusy(group, `state ${state}`);
    }
  }
}

function groupBusy(group: string, why: string): BusError {
  return new BusError(
    `Kafka: group ${group} has running instances (${why}); ` +
      'offsets are committed only for a group whose consumers have stopped',
    { code: 'group_busy', retriable: true },
  );
}
