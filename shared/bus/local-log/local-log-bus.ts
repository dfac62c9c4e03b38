/**
 * @module The embedded adapter of the bus port for one-machine mode: a
 * durable, append-only log on the local disk with Kafka's model (topics,
 * partitions, dense offsets, consumer-group commits), so the edge and the
 * loader run unchanged without a broker.
 *
 * Layout under `dir`:
 *
 *     LOCK                                   owner of the directory (one process)
 *     topics/<topic>/topic.json              {"partitions": N}
 *     topics/<topic>/<p>/<base>.log          segments: CRC-framed records (record-frame.ts)
 *     topics/<topic>/<p>/<base>.index        sparse index of a sealed segment
 *     groups/<base64url(group)>/<topic>.json committed offsets
 *
 * Durability follows `fsync`: 'always' resolves produce after fdatasync
 * (survives power loss), 'interval' after the write with an fdatasync every
 * `fsyncIntervalMs` (survives a process crash, may lose the last interval on
 * an OS crash), 'never' leaves flushing to the OS (tests, throwaway demos).
 * Retention is not implemented: `low` stays at the first segment's base
 * offset, and deleting whole sealed segments from the front is all it needs.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { acquireDirectoryLock, type DirectoryLock } from '../../directory-lock.ts';
import { fsyncDirectory, replaceFileDurably } from '../../durable-write.ts';
import { BusError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { BusMessage, ConsumedMessage, EventBus, PartitionOffset, PartitionOffsets } from '../bus.ts';
import { partitionForKey } from '../key-partitioner.ts';
import { checkReadRange } from '../read-range.ts';
import { GroupOffsetsFiles } from './group-offsets-file.ts';
import { type AppendRecord, PartitionLog, type PartitionLogOptions } from './partition-log.ts';
import { frameSize } from './record-frame.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

export const localLogBusConfigSchema = z.object({
  /** Directory of the log; created when missing. */
  dir: z.string().min(1),
  fsync: z.enum(['always', 'interval', 'never']).default('always'),
  fsyncIntervalMs: z.number().int().positive().default(100),
  segmentBytes: z
    .number()
    .int()
    .min(4 * KIB)
    .max(1024 * MIB)
    .default(64 * MIB),
  indexIntervalBytes: z
    .number()
    .int()
    .positive()
    .default(16 * KIB),
  /** Largest record (key + value + 33 bytes of frame); larger ones are refused, as Kafka's message.max.bytes does. */
  maxRecordBytes: z
    .number()
    .int()
    .positive()
    .max(64 * MIB)
    .default(MIB),
  /** A read yields a batch once it holds this many bytes or records. */
  readBatchBytes: z.number().int().positive().default(MIB),
  readBatchRecords: z.number().int().positive().default(5000),
});

export type LocalLogBusConfig = z.input<typeof localLogBusConfigSchema>;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

interface TopicLog {
  partitions: PartitionLog[];
  /** Messages without a key stick to one partition per produce call, rotating between calls. */
  nextKeylessPartition: number;
}

/** Opens (creating when needed) a local log and takes ownership of its directory. */
export async function openLocalLogBus(config: LocalLogBusConfig, logger?: Logger): Promise<LocalLogBus> {
  const parsed = localLogBusConfigSchema.parse(config);
  await mkdir(join(parsed.dir, 'topics'), { recursive: true });
  await mkdir(join(parsed.dir, 'groups'), { recursive: true });
  await fsyncDirectory(parsed.dir);
  const lock = await acquireDirectoryLock(parsed.dir);
  return new LocalLogBus(parsed, lock, logger ?? pino({ level: 'silent' }));
}

export class LocalLogBus implements EventBus {
  private readonly config: z.output<typeof localLogBusConfigSchema>;
  private readonly lock: DirectoryLock;
  private readonly logger: Logger;
  private readonly groups: GroupOffsetsFiles;
  private readonly topics = new Map<string, Promise<TopicLog>>();
  private readonly openPartitions = new Set<PartitionLog>();
  private readonly syncTimer: NodeJS.Timeout | null;
  private closed = false;

  constructor(config: z.output<typeof localLogBusConfigSchema>, lock: DirectoryLock, logger: Logger) {
    this.config = config;
    this.lock = lock;
    this.logger = logger;
    this.groups = new GroupOffsetsFiles(join(config.dir, 'groups'));
    this.syncTimer =
      config.fsync === 'interval' ? setInterval(() => void this.syncDirty(), config.fsyncIntervalMs) : null;
    this.syncTimer?.unref();
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    this.checkOpen();
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new BusError(`a topic needs a whole number of partitions >= 1, not ${partitions}`, {
        code: 'invalid_request',
      });
    }
    const existing = this.topics.get(topic);
    if (existing !== undefined && (await existing.then(() => true).catch(() => false))) return;
    await this.topic(topic, partitions);
  }

  async produce(topic: string, messages: BusMessage[]): Promise<void> {
    this.checkOpen();
    const log = await this.topic(topic);
    if (messages.length === 0) return;
    const count = log.partitions.length;
    const keyless = log.nextKeylessPartition;
    log.nextKeylessPartition = (keyless + 1) % count;
    const byPartition = new Map<number, AppendRecord[]>();
    const now = Date.now();
    for (const m of messages) {
      const key = m.key === null ? null : Buffer.from(m.key, 'utf8');
      const value = typeof m.value === 'string' ? Buffer.from(m.value, 'utf8') : m.value;
      const timestamp = m.timestamp ?? now;
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw new BusError(`message timestamp must be ms since the epoch, not ${timestamp}`, {
          code: 'invalid_request',
        });
      }
      const record: AppendRecord = { key, value, timestamp };
      if (frameSize(record) > this.config.maxRecordBytes) {
        throw new BusError(
          `a message of ${frameSize(record)} bytes exceeds the local log's maxRecordBytes (${this.config.maxRecordBytes})`,
          { status: 413, code: 'message_too_large' },
        );
      }
      const partition = key === null ? keyless : partitionForKey(key, count);
      const list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, [record]);
      else list.push(record);
    }
    await Promise.all([...byPartition].map(([p, records]) => log.partitions[p]!.append(records)));
  }

  async watermarks(topic: string): Promise<PartitionOffsets[]> {
    this.checkOpen();
    const log = await this.topic(topic);
    return log.partitions.map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
  }

  async offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]> {
    this.checkOpen();
    const log = await this.topic(topic);
    return Promise.all(
      log.partitions.map(async (p) => ({
        partition: p.partition,
        offset: await p.offsetForTime(timestampMs),
      })),
    );
  }

  async *read(topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]> {
    this.checkOpen();
    const log = await this.topic(topic);
    const p = log.partitions[partition];
    checkReadRange(topic, partition, from, to, p, '');
    if (from === to) return;
    yield* p.read(from, to, this.config.readBatchBytes, this.config.readBatchRecords);
  }

  async committed(group: string, topic: string): Promise<PartitionOffset[]> {
    this.checkOpen();
    await this.topic(topic);
    return this.groups.read(group, topic);
  }

  async commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    this.checkOpen();
    const log = await this.topic(topic);
    for (const o of offsets) {
      if (log.partitions[o.partition] === undefined || !Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new BusError(`cannot commit offset ${o.offset} for ${topic}/${o.partition}`, {
          code: 'invalid_request',
        });
      }
    }
    if (offsets.length > 0) await this.groups.commit(group, topic, offsets);
  }

  /** Waits for pending appends, makes everything durable, closes files and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    const errors: unknown[] = [];
    for (const opening of this.topics.values()) {
      const log = await opening.catch(() => null);
      for (const p of log?.partitions ?? []) await p.close().catch((e: unknown) => errors.push(e));
    }
    await this.lock.release();
    if (errors.length > 0) {
      throw new BusError(`closing the local log ${this.config.dir} failed`, {
        cause: errors[0],
        code: 'log_unwritable',
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new BusError(`the local log ${this.config.dir} is closed`, { code: 'closed' });
  }

  /** The open topic; with `createWith`, created with that many partitions when missing. */
  private topic(name: string, createWith?: number): Promise<TopicLog> {
    const existing = this.topics.get(name);
    if (existing !== undefined) return existing;
    const opening = this.openTopic(name, createWith);
    this.topics.set(name, opening);
    // A failed open (unknown topic, say) is not remembered: a later ensureTopic may create it.
    opening.catch(() => {
      if (this.topics.get(name) === opening) this.topics.delete(name);
    });
    return opening;
  }

  private async openTopic(name: string, createWith?: number): Promise<TopicLog> {
    if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
      throw new BusError(`invalid topic name ${JSON.stringify(name)}: use 1-249 of [a-zA-Z0-9._-]`, {
        code: 'invalid_request',
      });
    }
    const topicDir = join(this.config.dir, 'topics', name);
    const metaPath = join(topicDir, 'topic.json');
    let partitions: number;
    try {
      partitions = (JSON.parse(await readFile(metaPath, 'utf8')) as { partitions: number }).partitions;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (createWith === undefined) {
        throw new BusError(`unknown topic ${name} in ${this.config.dir}: call ensureTopic first`, {
          code: 'unknown_topic',
        });
      }
      partitions = createWith;
      if ((await mkdir(topicDir, { recursive: true })) !== undefined) {
        await fsyncDirectory(join(this.config.dir, 'topics'));
      }
      // Partition directories first, topic.json last: a topic exists once its metadata is durable.
      for (let p = 0; p < partitions; p++) await mkdir(join(topicDir, String(p)), { recursive: true });
      await replaceFileDurably(metaPath, JSON.stringify({ partitions }));
    }
    const partitionOptions: PartitionLogOptions = {
      segmentBytes: this.config.segmentBytes,
      fsync: this.config.fsync,
      indexIntervalBytes: this.config.indexIntervalBytes,
      readChunkBytes: Math.min(this.config.readBatchBytes, MIB),
    };
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) {
      const log = await PartitionLog.open(p, join(topicDir, String(p)), partitionOptions, this.logger);
      logs.push(log);
      this.openPartitions.add(log);
    }
    return { partitions: logs, nextKeylessPartition: 0 };
  }

  private async syncDirty(): Promise<void> {
    for (const p of this.openPartitions) {
      try {
        await p.syncIfDirty();
      } catch (error) {
        this.logger.error({ err: error, partition: p.partition }, 'local log: interval fsync failed');
      }
    }
  }
}
