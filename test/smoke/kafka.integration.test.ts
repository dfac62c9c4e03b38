/**
 * Smoke test: the shared stack's Kafka is a real broker that kafkajs (the product's client)
 * can produce to idempotently with acks=-1 and consume from in a consumer group.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv } from '../infra/stack-env.ts';

describe('Kafka smoke', () => {
  printServerLogsOnFailure(['kafka']);
  const env = readStackEnv();
  const kafka = new kafkajs.Kafka({
    clientId: 'smoke-kafka',
    brokers: env.KAFKA_BROKERS.split(','),
    // kafkajs logs the coordinator loading as ERROR and retries by itself: failures still throw.
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = `smoke-kafka-${randomUUID()}`;

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('produces idempotently with acks=-1 and consumes the same messages in order', async () => {
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: `message ${i}` }));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const acks = await producer.send({ topic, acks: -1, messages: sent });
      expect(acks[0]?.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    const received: { key: string; value: string }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              received.push({ key: String(message.key), value: String(message.value) });
              if (received.length === sent.length) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual(sent);
  });
});
