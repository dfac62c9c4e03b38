/**
 * @module A scaled-out loader's membership of its Kafka consumer group: who
 * owns which slots is Kafka's group protocol (join, sync, heartbeats, a
 * rebalance when a member comes, leaves or stops heartbeating), with the
 * slot assigner (slot-assigner.ts) as the group's assignment strategy. No
 * coordinator of our own.
 *
 * The member never consumes through the group: every topic is paused as soon
 * as it is assigned (the loader reads closed offset ranges through the
 * EventBus port, as a single loader does), auto-commit is off, and its fetch
 * size is tiny, so the membership costs heartbeats. It does commit: once a
 * slot's load is committed in the store, the group's offsets are moved
 * through this member (Kafka refuses commits from outside a group that has
 * live members), so Kafka's lag tools and the autoscaler see the progress.
 */

import kafkajs from 'kafkajs';
import type { PartitionOffset } from '../../shared/bus/bus.ts';
import { kafkajsLogCreator } from '../../shared/bus/kafka/kafka-bus.ts';
import { InputError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { slotAssigner } from './slot-assigner.ts';

const { Kafka, logLevel } = kafkajs;

export interface SlotMember {
  /** Every topic the subscription matched at join time. */
  readonly topics: readonly string[];
  /** Slot (partition number) → the topics on which this member owns it, as of the latest assignment. */
  slots(): Map<number, string[]>;
  /** Moves the group's committed offsets of `topic` (best effort: a rebalance in between refuses it). */
  commit(topic: string, offsets: PartitionOffset[]): Promise<void>;
  /** Leaves the group: its slots go to the other members at once. */
  leave(): Promise<void>;
}

export interface GroupMemberOptions {
  brokers: readonly string[];
  clientId: string;
  group: string;
  /** One topic, or a pattern (a whole-name JavaScript regular expression, e.g. `.*\.events`). */
  topic: string;
  topicPattern?: string;
  sessionTimeoutMs: number;
  /** How long to wait for the first assignment. */
  joinTimeoutMs?: number;
  logger: Logger;
}

/** The topics a pattern matches among the cluster's (Kafka's internal `__…` topics never). */
function matchTopics(all: readonly string[], pattern: string): string[] {
  const re = new RegExp(`^(?:${pattern})$`);
  return all.filter((t) => !t.startsWith('__') && re.test(t)).sort();
}

function kafkaOf(options: Pick<GroupMemberOptions, 'brokers' | 'clientId' | 'logger'>) {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
    logLevel: logLevel.INFO,
    logCreator: kafkajsLogCreator(options.logger),
  });
}

/** The topics the loaders consume: `topic`, or those `topicPattern` matches now. */
export async function loaderTopics(
  options: Pick<GroupMemberOptions, 'brokers' | 'clientId' | 'logger' | 'topic' | 'topicPattern'>,
  kafka = kafkaOf(options),
): Promise<string[]> {
  if (options.topicPattern === undefined) return [options.topic];
  const admin = kafka.admin();
  await admin.connect();
  let topics: string[];
  try {
    topics = matchTopics(await admin.listTopics(), options.topicPattern);
  } finally {
    await admin.disconnect();
  }
  if (topics.length === 0)
    throw new InputError(`no topic matches the pattern ${options.topicPattern}`, {
      status: 400,
      code: 'no_topic',
    });
  return topics;
}

export async function joinLoaderGroup(options: GroupMemberOptions): Promise<SlotMember> {
  const { logger } = options;
  const kafka = kafkaOf(options);
  const topics = await loaderTopics(options, kafka);
  const consumer = kafka.consumer({
    groupId: options.group,
    partitionAssigners: [slotAssigner],
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
    rebalanceTimeout: options.sessionTimeoutMs * 3,
    maxBytesPerPartition: 1024,
    maxBytes: 16 * 1024,
    maxWaitTimeInMs: 1000,
  });
  let assignment: Record<string, number[]> = {};
  let joined: () => void = () => undefined;
  const firstJoin = new Promise<void>((resolve) => {
    joined = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assignment = event.payload.memberAssignment;
    // Fetching is not how a loader reads: keep the member to heartbeats.
    consumer.pause(topics.map((topic) => ({ topic })));
    logger.info(
      { group: options.group, memberId: event.payload.memberId, assignment },
      'loader group: slots assigned',
    );
    joined();
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
  const timeoutMs = options.joinTimeoutMs ?? options.sessionTimeoutMs * 6;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no assignment from group ${options.group} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([firstJoin, timedOut]);
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    topics,
    slots() {
      const out = new Map<number, string[]>();
      for (const [topic, ps] of Object.entries(assignment))
        for (const p of ps) out.set(p, [...(out.get(p) ?? []), topic].sort());
      return new Map([...out].sort(([a], [b]) => a - b));
    },
    async commit(topic, offsets) {
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset) })),
      );
    },
    async leave() {
      await consumer.disconnect();
    },
  };
}
