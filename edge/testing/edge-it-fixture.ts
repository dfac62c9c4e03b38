/**
 * @module Shared setup of the edge's integration and fault tests: free ports
 * below 32768 (Linux hands out outgoing ports above), unique topics removed
 * afterwards, a config builder, and a wait for messageIds to reach a topic.
 */
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { EventBus } from '../../shared/bus/bus.ts';
import { type EdgeConfig, type EdgeConfigInput, parseEdgeConfig } from '../config.ts';
import { readTopic, type TopicMessage } from './read-topic.ts';

export const IT_WRITE_KEY = 'wk_integration_0123456789';
export const IT_RELAY_SECRET = 'relay-secret-integration-0123456789';

export { freePort } from '../../test/infra/free-port.ts';

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The sink of the fault tests: short timeouts and small batches, so a broken broker shows within seconds. */
export const FAULT_TEST_SINK = {
  produceTimeoutMs: 1500,
  drainTimeoutMs: 5000,
  maxBatchMessages: 500,
  maxBatchBytes: 512 * 1024,
  maxInFlight: 2,
  drainBackoff: { minMs: 200, maxMs: 1000 },
} as const;

export function edgeTestConfig(input: {
  port: number;
  brokers: string[];
  topic: string;
  spoolDir: string;
  overrides?: Partial<EdgeConfigInput>;
}): EdgeConfig {
  return parseEdgeConfig({
    host: '127.0.0.1',
    port: input.port,
    // Far above what the tests send: rate limiting has unit tests of its own.
    projects: [
      {
        id: 'proj_it',
        writeKeys: [IT_WRITE_KEY],
        // CORS is by explicit grant only: the browser origin the integration tests send from.
        allowedOrigins: ['https://shop.example'],
        rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
      },
    ],
    ipSalt: 'integration-salt-0123456789',
    relaySecret: IT_RELAY_SECRET,
    // The config's default client (platformatic); EDGE_KAFKA_CLIENT=kafkajs runs the same
    // integration and fault suites on the other client.
    kafka: {
      brokers: input.brokers,
      topic: input.topic,
      partitions: 3,
      clientId: 'edge-it',
      ...(process.env.EDGE_KAFKA_CLIENT === 'kafkajs' ? { client: 'kafkajs' as const } : {}),
    },
    spool: { dir: input.spoolDir },
    shutdownGraceMs: 5000,
    ...input.overrides,
  });
}

export async function deleteTopic(brokers: string[], topic: string): Promise<void> {
  const admin = new kafkajs.Kafka({
    brokers,
    clientId: 'edge-it-cleanup',
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

/** Total messages in a topic (high minus low, every partition); 0 while it does not exist. */
async function countMessages(bus: EventBus, topic: string): Promise<number> {
  try {
    return (await bus.watermarks(topic)).reduce((sum, w) => sum + (w.high - w.low), 0);
  } catch {
    return 0;
  }
}

/**
 * Waits until every id in `messageIds` is on the topic (counting first, which
 * is cheap, then reading), and returns the topic's messages.
 */
export async function waitForMessageIds(
  bus: EventBus,
  topic: string,
  messageIds: Iterable<string>,
  deadlineMs = 120_000,
): Promise<TopicMessage[]> {
  const wanted = new Set(messageIds);
  const stopAt = Date.now() + deadlineMs;
  let last: TopicMessage[] = [];
  let lastError: unknown;
  while (Date.now() < stopAt) {
    if ((await countMessages(bus, topic)) >= wanted.size) {
      try {
        last = await readTopic(bus, topic);
        const seen = new Set(last.map((m) => m.event.messageId));
        if ([...wanted].every((id) => seen.has(id))) return last;
      } catch (err) {
        // A broker just restarted may not have loaded its group coordinator yet.
        lastError = err;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (lastError && last.length === 0) throw lastError;
  const seen = new Set(last.map((m) => m.event.messageId));
  const missing = [...wanted].filter((id) => !seen.has(id));
  throw new Error(
    `${missing.length} of ${wanted.size} messageIds never reached ${topic}: ${missing.slice(0, 5)}`,
  );
}
