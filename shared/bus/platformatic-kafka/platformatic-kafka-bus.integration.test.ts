/**
 * The @platformatic/kafka adapter against the shared stack's real broker: the
 * same bus contract as the kafkajs adapter, then what only Kafka has (a
 * commit while the group has a live member) and that both clients put a key
 * in the same partition and read each other's messages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic, runBusContract } from '../bus.contract.ts';
import { deleteTopicsAndGroups, stackBrokers, whileGroupHasLiveMember } from '../fixtures/kafka-stack.ts';
import { createKafkaBus, type KafkaBus } from '../kafka/kafka-bus.ts';
import { createPlatformaticKafkaBus, type PlatformaticKafkaBus } from './platformatic-kafka-bus.ts';

const brokers = stackBrokers;

runBusContract('kafka (@platformatic/kafka)', async () => ({
  bus: createPlatformaticKafkaBus({ brokers: brokers(), clientId: 'bus-contract-platformatic' }),
  cleanup: ({ topics, groups }) => deleteTopicsAndGroups(topics, groups),
}));

describe('PlatformaticKafkaBus on a real broker', () => {
  const topic = `platformatic-bus-${randomUUID().slice(0, 8)}`;
  const group = `${topic}-group`;
  let bus: PlatformaticKafkaBus;
  let kafkajsBus: KafkaBus;

  beforeAll(async () => {
    bus = createPlatformaticKafkaBus({ brokers: brokers(), clientId: 'platformatic-bus-test' });
    kafkajsBus = createKafkaBus({ brokers: brokers(), clientId: 'platformatic-bus-test-kafkajs' });
    await bus.ensureTopic(topic, 3);
  });

  afterAll(async () => {
    await bus.close();
    await kafkajsBus.close();
    await deleteTopicsAndGroups([topic], [group]);
  });

  it('puts a key in the same partition as kafkajs, and each client reads the other’s messages', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `project-${i % 4}:anon-${i}-é`);
    await bus.produce(
      topic,
      keys.map((key) => ({ key, value: `platformatic:${key}` })),
    );
    await kafkajsBus.produce(
      topic,
      keys.map((key) => ({ key, value: `kafkajs:${key}` })),
    );
    for (const reader of [bus, kafkajsBus]) {
      const partitionOf = new Map<string, Set<number>>();
      const consumed = await readTopic(reader, topic);
      expect(consumed).toHaveLength(60);
      for (const m of consumed) {
        const seen = partitionOf.get(m.key!) ?? new Set<number>();
        seen.add(m.partition);
        partitionOf.set(m.key!, seen);
      }
      for (const key of keys) expect(partitionOf.get(key)?.size).toBe(1);
    }
  });

  it('reports a commit refused because the group has a live member', async () => {
    await bus.commit(group, topic, [{ partition: 0, offset: 1 }]);
    expect(await bus.committed(group, topic)).toEqual([{ partition: 0, offset: 1 }]);
    await whileGroupHasLiveMember(group, topic, async () => {
      await expect(bus.commit(group, topic, [{ partition: 0, offset: 2 }])).rejects.toMatchObject({
        name: 'BusError',
        code: 'group_busy',
      });
    });
  });
});
