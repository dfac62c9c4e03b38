/**
 * The Kafka adapter against the shared stack's real broker: the bus contract,
 * then what only Kafka has (a commit while the group has a live member).
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBusContract } from '../bus.contract.ts';
import { deleteTopicsAndGroups, stackBrokers, whileGroupHasLiveMember } from '../fixtures/kafka-stack.ts';
import { createKafkaBus, type KafkaBus } from './kafka-bus.ts';

const brokers = stackBrokers;

runBusContract('kafka (kafkajs)', async () => ({
  bus: createKafkaBus({ brokers: brokers(), clientId: 'bus-contract' }),
  cleanup: ({ topics, groups }) => deleteTopicsAndGroups(topics, groups),
}));

describe('KafkaBus on a real broker', () => {
  const topic = `kafka-bus-${randomUUID().slice(0, 8)}`;
  const group = `${topic}-group`;
  let bus: KafkaBus;

  beforeAll(async () => {
    bus = createKafkaBus({ brokers: brokers(), clientId: 'kafka-bus-test', readGroupPrefix: topic });
    await bus.ensureTopic(topic, 2);
  });

  afterAll(async () => {
    await bus.close();
    await deleteTopicsAndGroups([topic], [group]);
  });

  it('leaves no read group behind and never moves the caller’s offsets', async () => {
    await bus.produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    );
    await bus.commit(group, topic, [{ partition: 0, offset: 1 }]);
    const [w] = await bus.watermarks(topic);
    let read = 0;
    for await (const batch of bus.read(topic, 0, w!.low, w!.high)) read += batch.length;
    expect(read).toBe(w!.high - w!.low);
    expect(await bus.committed(group, topic)).toEqual([{ partition: 0, offset: 1 }]);
    const admin = new kafkajs.Kafka({ brokers: brokers(), logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    const { groups } = await admin.listGroups();
    await admin.disconnect();
    expect(groups.filter((g) => g.groupId.startsWith(`${topic}-read-`))).toEqual([]);
  });

  it('reports a commit refused because the group has a live member', async () => {
    await whileGroupHasLiveMember(group, topic, async () => {
      await expect(bus.commit(group, topic, [{ partition: 0, offset: 2 }])).rejects.toMatchObject({
        name: 'BusError',
        code: 'group_busy',
      });
    });
  });
});
