/**
 * @module Builds the Kafka adapter for the client a deployment chose:
 * kafkajs (`kafka/kafka-bus.ts`) or @platformatic/kafka
 * (`platformatic-kafka/platformatic-kafka-bus.ts`). Both pass the same
 * contract and put a key in the same partition, so switching is this one option; see README.md, "Measurements", for which and why.
 *
 * Each adapter module is imported only when it is chosen, so a process loads
 * one Kafka client (and one on the local log loads none): importing this file
 * never pulls in a client the deployment does not run.
 */
import type { Logger } from '../logger.ts';
import type { EventBus } from './bus.ts';
import type { KafkaBusConfig } from './kafka/kafka-bus.ts';

export type KafkaClient = 'kafkajs' | 'platformatic';

/**
 * The options both adapters share (a few, like `compression`, take more
 * values on platformatic: set those through `createPlatformaticKafkaBus`).
 */
export type KafkaClientBusConfig = KafkaBusConfig & { client?: KafkaClient };

export async function createKafkaClientBus(config: KafkaClientBusConfig, logger?: Logger): Promise<EventBus> {
  const { client = 'kafkajs', ...rest } = config;
  if (client === 'platformatic') {
    const { createPlatformaticKafkaBus } = await import('./platformatic-kafka/platformatic-kafka-bus.ts');
    return createPlatformaticKafkaBus(rest, logger);
  }
  const { createKafkaBus } = await import('./kafka/kafka-bus.ts');
  return createKafkaBus(rest, logger);
}
