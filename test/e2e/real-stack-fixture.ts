/**
 * @module What the end-to-end tests that run a one-machine process against
 * the shared stack (Kafka, s3proxy, HiveServer2) share: the config sections
 * that point it there, and the clean-up of the run's own topic, group and
 * tables afterwards.
 */
import kafkajs from 'kafkajs';
import type { WarehouseTableNames } from '../../shared/warehouse.ts';
import { queryHive } from '../infra/hive-client.ts';
import type { StackEnv } from '../infra/stack-env.ts';

/** The config's `store` section: the stack's bucket under the run's own prefix. */
export function stackStoreConfig(stack: StackEnv, prefix: string) {
  return {
    kind: 's3',
    bucket: stack.S3_BUCKET,
    prefix,
    endpoint: stack.S3_ENDPOINT,
    region: stack.S3_REGION,
    forcePathStyle: true,
    accessKeyId: stack.S3_ACCESS_KEY,
    secretAccessKey: stack.S3_SECRET_KEY,
  } as const;
}

/** The config's `catalog` section: the stack's HiveServer2. */
export function stackCatalogConfig(stack: StackEnv) {
  return { kind: 'hive', host: stack.HIVE_HOST, port: stack.HIVE_PORT, auth: stack.HIVE_AUTH } as const;
}

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
