/**
 * @module The production adapter of the bus port: Kafka through kafkajs.
 *
 * - Produce: one idempotent producer (acks=-1, max one request in flight, so
 *   retries neither duplicate nor reorder), gzip batches (or lz4 through
 *   lz4-codec.ts, or none), the default
 *   (Java-compatible murmur2) partitioner, so one key stays in one partition.
 *   A large produce() goes as several requests of at most `maxRequestBytes`,
 *   in order, because a broker refuses a record batch over message.max.bytes.
 * - Offsets and times go through the admin API. A commit is made by a
 *   short-lived member of the group (kafka-group-commit.ts), which requires
 *   the group to have no live member: the loader's group never has one,
 *   because reads use throwaway groups (kafka-partition-reader.ts).
 * - Every failure becomes a BusError (kafka-error.ts); the connection and
 *   request timeouts and the retry count are configurable so a dead broker
 *   fails within seconds with a message that names the brokers.
 *
 * About 300 lines: the whole EventBus port on one client; reading a range
 * and committing are in their own modules already.
 */

import type { Admin, Kafka, LogEntry, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import pRetry from 'p-retry';
import { pino } from 'pino';
import { z } from 'zod';
import { kafkaClientFields } from '../../adapters-config.ts';
import { BusError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { BusMessage, ConsumedMessage, EventBus, PartitionOffset, PartitionOffsets } from '../bus.ts';
import { checkReadRange } from '../read-range.ts';
import { toBusError } from './kafka-error.ts';
import { commitGroupOffsets } from './kafka-group-commit.ts';
import { readKafkaPartition } from './kafka-partition-reader.ts';
import { registerLz4Codec } from './lz4-codec.ts';
import { chunksOf } from './produce-chunks.ts';

const { Kafka: KafkaClient, CompressionTypes, logLevel } = kafkajs;
registerLz4Codec();

const COMPRESSION = {
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
  none: CompressionTypes.None,
} as const;

export const kafkaBusConfigSchema = z.object({
  ...kafkaClientFields,
  // kafkajs backs off 100 ms, doubling to 3 s, between retries.
  /** gzip, or lz4 through the codec this adapter registers (lz4-codec.ts). */
  compression: z.enum(['gzip', 'lz4', 'none']).default('gzip'),
  readSessionTimeoutMs: z.number().int().min(6000).default(10_000),
});

export type KafkaBusConfig = z.input<typeof kafkaBusConfigSchema>;

/**
 * kafkajs' log lines into pino; its INFO is chatty (every join), so it goes to
 * debug. So do the error answers its Connection logs as they arrive ("Response
 * GroupCoordinator … The group coordinator is not available", "not the correct
 * coordinator", "does not host this topic-partition"): kafkajs and withAdmin
 * retry the retriable ones (a fresh broker's coordinator still loading, a
 * leader moving), and one that really fails surfaces as the operation's own
 * error, which its caller logs or answers. An error line means something is wrong.
 * Exported for the scaled-out loader's group member (loader/scale-out/group-member.ts).
 */
export function kafkajsLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const entry = { kafkajs: namespace, ...extra };
      if (isBrokerAnswer(namespace, message)) logger.debug(entry, message);
      else if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else logger.debug(entry, message);
    };
}

function isBrokerAnswer(namespace: string, message: string): boolean {
  return namespace === 'Connection' && message.startsWith('Response ');
}

export function createKafkaBus(config: KafkaBusConfig, logger?: Logger): KafkaBus {
  return new KafkaBus(kafkaBusConfigSchema.parse(config), logger ?? pino({ level: 'silent' }));
}

export class KafkaBus implements EventBus {
  private readonly config: z.output<typeof kafkaBusConfigSchema>;
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private closed = false;

  constructor(config: z.output<typeof kafkaBusConfigSchema>, logger: Logger) {
    this.config = config;
    this.kafka = new KafkaClient({
      clientId: config.clientId,
      brokers: config.brokers,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      retry: { retries: config.retries, initialRetryTime: 100, maxRetryTime: 3000 },
      logLevel: logLevel.INFO,
      logCreator: kafkajsLogCreator(logger),
    });
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    await this.withAdmin(`creating topic ${topic}`, async (admin) => {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, replicationFactor: this.config.replicationFactor }],
      });
    });
  }

  async produce(topic: string, messages: BusMessage[]): Promise<void> {
    this.checkOpen();
    if (messages.length === 0) return;
    const producer = await this.connected('connecting the producer', () => this.producerConnection());
    const compression = COMPRESSION[this.config.compression];
    const now = String(Date.now());
    try {
      for (const chunk of chunksOf(messages, this.config.maxRequestBytes)) {
        await producer.send({
          topic,
          acks: -1,
          compression,
          messages: chunk.map((m) => ({
            key: m.key,
            value:
              typeof m.value === 'string'
                ? m.value
                : Buffer.from(m.value.buffer, m.value.byteOffset, m.value.length),
            timestamp: m.timestamp === undefined ? now : String(m.timestamp),
          })),
        });
      }
    } catch (error) {
      this.discardProducer(producer);
      throw toBusError(`producing ${messages.length} messages to ${topic}`, error, this.config.brokers);
    }
  }

  /**
   * After a failed send the next produce starts a new producer: kafkajs' idempotent
   * producer can keep a sequence state the restarted broker no longer accepts, and
   * then fails every later send (seen as an edge stuck spooling after a broker
   * SIGKILL). A new producer id costs one connect; duplicates it may cause are
   * removed by messageId in the loader.
   */
  private discardProducer(failed: Producer): void {
    const current = this.producer;
    if (!current) return;
    void current.then((p) => {
      if (p !== failed || this.producer !== current) return;
      this.producer = null;
      p.disconnect().catch(() => {});
    });
  }

  async watermarks(topic: string): Promise<PartitionOffsets[]> {
    return this.withAdmin(`reading the watermarks of ${topic}`, async (admin) => {
      // A missing topic is an answer, not a condition to wait out: kafkajs would retry
      // UNKNOWN_TOPIC_OR_PARTITION for seconds, logging each attempt.
      if (!(await admin.listTopics()).includes(topic)) {
        throw new BusError(`Kafka: topic ${topic} does not exist at ${this.config.brokers.join(',')}`, {
          code: 'unknown_topic',
        });
      }
      return (await admin.fetchTopicOffsets(topic))
        .map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }))
        .sort((a, b) => a.partition - b.partition);
    });
  }

  async offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]> {
    // kafkajs already answers the high watermark where no record is that late.
    return this.withAdmin(`finding offsets of ${topic} at ${timestampMs}`, async (admin) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs))
        .map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition),
    );
  }

  async *read(topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]> {
    const marks = (await this.watermarks(topic)).find((w) => w.partition === partition);
    checkReadRange(topic, partition, from, to, marks);
    if (from === to) return;
    yield* readKafkaPartition(
      this.kafka,
      {
        brokers: this.config.brokers,
        groupPrefix: this.config.readGroupPrefix,
        maxBytesPerPartition: this.config.readMaxBytes,
        sessionTimeoutMs: this.config.readSessionTimeoutMs,
        retries: this.config.retries,
        deleteGroup: (groupId) =>
          this.withAdmin('deleting a read group', async (admin) => {
            await admin.deleteGroups([groupId]);
          }),
      },
      topic,
      partition,
      from,
      to,
    );
  }

  async committed(group: string, topic: string): Promise<PartitionOffset[]> {
    return this.withAdmin(`reading the offsets of group ${group}`, async (admin) => {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return (entry?.partitions ?? [])
        .map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
        .filter((p) => p.offset >= 0)
        .sort((a, b) => a.partition - b.partition);
    });
  }

  async commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.withAdmin(`committing offsets of group ${group}`, async (admin) => {
      await commitGroupOffsets(
        this.kafka,
        admin,
        { retries: this.config.retries, sessionTimeoutMs: this.config.readSessionTimeoutMs },
        group,
        topic,
        offsets,
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const producer = await this.producer?.catch(() => null);
    const admin = await this.admin?.catch(() => null);
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  }

  private checkOpen(): void {
    if (this.closed) throw new BusError('Kafka: the bus is closed', { code: 'closed' });
  }

  private producerConnection(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      return producer;
    })();
    return this.producer;
  }

  private adminConnection(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  /** Awaits a memoized connection; a failed one is forgotten so the next call tries again. */
  private async connected<T>(what: string, connect: () => Promise<T>): Promise<T> {
    const pending = connect();
    try {
      return await pending;
    } catch (error) {
      if (this.producer === (pending as unknown)) this.producer = null;
      if (this.admin === (pending as unknown)) this.admin = null;
      throw toBusError(what, error, this.config.brokers);
    }
  }

  private async withAdmin<T>(what: string, run: (admin: Admin) => Promise<T>): Promise<T> {
    this.checkOpen();
    const admin = await this.connected('connecting the admin client', () => this.adminConnection());
    try {
      // A coordinator that is moving or still loading (a fresh broker's first group
      // request answers NOT_COORDINATOR) is a protocol error Kafka marks retriable:
      // retry those briefly; anything else fails at once.
      return await pRetry(() => run(admin), {
        retries: 6,
        minTimeout: 100,
        maxTimeout: 2_000,
        shouldRetry: ({ error }) => isRetriableProtocolError(error),
      });
    } catch (error) {
      throw toBusError(what, error, this.config.brokers);
    }
  }
}

function isRetriableProtocolError(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'KafkaJSProtocolError' &&
    (error as Error & { retriable?: boolean }).retriable === true
  );
}
