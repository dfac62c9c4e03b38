import { describe, expect, it } from 'vitest';
import { runUnreachableBrokerSuite } from '../fixtures/unreachable-broker.ts';
import { KafkaBus } from '../kafka/kafka-bus.ts';
import { createKafkaClientBus } from '../kafka-client-bus.ts';
import { createPlatformaticKafkaBus, PlatformaticKafkaBus } from './platformatic-kafka-bus.ts';

runUnreachableBrokerSuite('PlatformaticKafkaBus', (config) => createPlatformaticKafkaBus(config));

describe('createKafkaClientBus', () => {
  it('is what createKafkaClientBus builds for client "platformatic", and kafkajs is the default', async () => {
    const chosen = await createKafkaClientBus({ brokers: ['127.0.0.1:1'], client: 'platformatic' });
    const fallback = await createKafkaClientBus({ brokers: ['127.0.0.1:1'] });
    expect(chosen).toBeInstanceOf(PlatformaticKafkaBus);
    expect(fallback).toBeInstanceOf(KafkaBus);
    await Promise.all([chosen.close(), fallback.close()]);
  });
});
