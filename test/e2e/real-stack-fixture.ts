/**
 * @module The clean-up shared by the end-to-end tests that run a one-machine
 * process against the shared stack (Kafka, s3proxy, HiveServer2): the run's
 * own tables, topic and consumer group go afterwards. (The config sections
 * that point a run there are test/infra/stack-env.ts's.)
 */
import kafkajs from 'kafkajs';
import type { WarehouseTableNames } from '../../shared/warehouse.ts';
import { queryHive } from '../infra/hive-client.ts';
import type { StackEnv } from '../infra/stack-env.ts';

/** Drops the run's tables and deletes its topic and consumer group; failures are ignored (clean-up). */
export async function removeStackRun(
  stack: StackEnv,
  run: { tables: WarehouseTableNames; topic: string; group: string },
): Promise<void> {
  const hive = { host: stack.HIVE_HOST, port: stack.HIVE_PORT, auth: stack.HIVE_AUTH };
  for (const table of Object.values(run.tables))
    await queryHive(hive, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  const admin = new kafkajs.Kafka({
    brokers: stack.KAFKA_BROKERS.split(','),
    clientId: 'e2e-cleanup',
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [run.topic] }).catch(() => undefined);
  await admin.deleteGroups([run.group]).catch(() => undefined);
  await admin.disconnect();
}
