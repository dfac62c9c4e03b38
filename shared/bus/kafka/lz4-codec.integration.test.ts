/**
 * lz4 across the two clients on the real broker: what either one writes with
 * lz4, kafkajs (through lz4-codec.ts) and @platformatic/kafka both read back
 * whole, in order. Without the codec kafkajs' read of an lz4 batch throws
 * "LZ4 compression not implemented", so the loader could not read what the
 * edge produces by default.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus } from '../bus.ts';
import { deleteTopicsAndGroups, stackBrokers } from '../fixtures/kafka-stack.ts';
import { createPlatformaticKafkaBus } from '../platformatic-kafka/platformatic-kafka-bus.ts';
import { createKafkaBus } from './kafka-bus.ts';

const topics: string[] = [];
const buses: EventBus[] = [];

function bus(client: 'kafkajs' | 'platformatic'): EventBus {
  const options = { brokers: stackBrokers(), clientId: `lz4-it-${client}`, compression: 'lz4' as const };
  const b = client === 'kafkajs' ? createKafkaBus(options) : createPlatformaticKafkaBus(options);
  buses.push(b);
  return b;
}

async function readAll(reader: EventBus, topic: string): Promise<string[]> {
  const [w] = await reader.watermarks(topic);
  const values: string[] = [];
  for await (const batch of reader.read(topic, 0, w!.low, w!.high)) {
    for (const m of batch) values.push(new TextDecoder().decode(m.value));
  }
  return values;
}

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await deleteTopicsAndGroups(topics, []);
});

describe('lz4 record batches', () => {
  for (const writer of ['platformatic', 'kafkajs'] as const) {
    it(`written by ${writer}, read by kafkajs and @platformatic/kafka`, async () => {
      const topic = `lz4-it-${writer}-${Date.now().toString(36)}`;
      topics.push(topic);
      const producer = bus(writer);
      await producer.ensureTopic(topic, 1);
      // Repetitive JSON, as events are: lz4 really compresses it (a literal-only frame would not test much).
      const messages: BusMessage[] = Array.from({ length: 500 }, (_, i) => ({
        key: `k${i % 7}`,
        value: JSON.stringify({ i, type: 'page', path: '/products/42', properties: { price: 19.99 } }),
      }));
      await producer.produce(topic, messages.slice(0, 250));
      await producer.produce(topic, messages.slice(250));
      const expected = messages.map((m) => m.value);
      expect(await readAll(bus('kafkajs'), topic)).toEqual(expected);
      expect(await readAll(bus('platformatic'), topic)).toEqual(expected);
    });
  }
});
