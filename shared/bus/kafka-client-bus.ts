/**
 * @module Builds the Kafka adapter for the client a deployment chose: kafkajs
 * (`kafka-bus.ts`) or @platformatic/kafka (`platformatic-kafka-bus.ts`). Both
 * pass the same contract and put a key in the same partition, so switching
 * is this one option; see README.md, "Measurements", for which and why.
 */
import type { Logger } from '../logger.ts';
import type { EventBus } from './bus.ts';
import { createKafkaBus, type KafkaBusConfig } from './kafka-bus.ts';
import { createPlatformaticKafkaBus } from './platformatic-kafka-bus.ts';

export type KafkaClient = 'kafkajs' | 'platformatic';

/**
 * The options both adapters share (a few, like `compression`, take more
 * values on platformatic: set those through `createPlatformaticKafkaBus`).
 */
export type KafkaClientBusConfig = KafkaBusConfig & { client?: KafkaClient };

export function createKafkaClientBus(config: KafkaClientBusConfig, logger?: Logger): EventBus {
  const { client = 'kafkajs', ...rest } = config;
  return client === 'platformatic' ? createPlatformaticKafkaBus(rest, logger) : createKafkaBus(rest, logger);
}
