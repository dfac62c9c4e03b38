/**
 * @module Builds the three ports from configuration: the only place that
 * knows adapter constructors. Everything else takes the ports as arguments.
 */
import { join } from 'node:path';
import type { EventBus } from '../shared/bus/bus.ts';
import { createKafkaBus } from '../shared/bus/kafka-bus.ts';
import { openLocalLogBus } from '../shared/bus/local-log-bus.ts';
import type { Catalog } from '../shared/catalog/catalog.ts';
import { DuckDbCatalog } from '../shared/catalog/duckdb-catalog.ts';
import { HiveCatalog } from '../shared/catalog/hive-catalog.ts';
import type { Logger } from '../shared/logger.ts';
import { DirObjectStore } from '../shared/object-store/dir-object-store.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import { S3ObjectStore } from '../shared/object-store/s3-object-store.ts';
import type { LoaderConfig } from './config.ts';

export interface LoaderPorts {
  bus: EventBus;
  store: ObjectStore;
  catalog: Catalog;
}

export async function openBus(config: LoaderConfig['bus'], logger: Logger): Promise<EventBus> {
  if (config.kind === 'local')
    return openLocalLogBus({ dir: config.dir, fsync: config.fsync ?? 'always' }, logger);
  return createKafkaBus({ brokers: config.brokers, clientId: config.clientId }, logger);
}

export function openStore(config: LoaderConfig['store']): ObjectStore {
  if (config.kind === 'dir') return new DirObjectStore({ root: config.root });
  return new S3ObjectStore({
    bucket: config.bucket,
    prefix: config.prefix,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
  });
}

export async function openCatalog(
  config: LoaderConfig['catalog'],
  store: ObjectStore,
  tempDir: string,
  logger: Logger,
): Promise<Catalog> {
  if (config.kind === 'duckdb') {
    return DuckDbCatalog.create({ store, workDir: config.workDir ?? join(tempDir, 'catalog'), logger });
  }
  return new HiveCatalog({
    host: config.host,
    port: config.port,
    auth: config.auth,
    database: config.database,
    logger,
  });
}

/** Opens the ports `config` names; any the caller already has (one-machine mode shares the bus) are used as they are. */
export async function openPorts(
  config: LoaderConfig,
  logger: Logger,
  given: Partial<LoaderPorts> = {},
): Promise<LoaderPorts> {
  const store = given.store ?? openStore(config.store);
  const bus = given.bus ?? (await openBus(config.bus, logger));
  const catalog = given.catalog ?? (await openCatalog(config.catalog, store, config.tempDir, logger));
  return { bus, store, catalog };
}
