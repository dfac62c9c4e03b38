/**
 * @module The only place that knows adapter constructors: each factory turns
 * a parsed adapter config (`adapters-config.ts`) into its port. Everything
 * else takes the ports as arguments.
 */
import type { BusConfig, CatalogConfig, StoreConfig } from './adapters-config.ts';
import type { EventBus } from './bus/bus.ts';
import { createKafkaClientBus } from './bus/kafka-client-bus.ts';
import { openLocalLogBus } from './bus/local-log/local-log-bus.ts';
import type { Catalog } from './catalog/catalog.ts';
import { DuckDbCatalog } from './catalog/duckdb/duckdb-catalog.ts';
import { HiveCatalog } from './catalog/hive/hive-catalog.ts';
import type { Metastore } from './catalog/metastore.ts';
import type { QueryEngine } from './catalog/query-engine.ts';
import type { Logger } from './logger.ts';
import { DirObjectStore } from './object-store/dir/dir-object-store.ts';
import type { ObjectStore } from './object-store/object-store.ts';
import { S3ObjectStore } from './object-store/s3/s3-object-store.ts';

export async function createEventBus(config: BusConfig, logger: Logger): Promise<EventBus> {
  if (config.kind === 'local') return openLocalLogBus({ dir: config.dir, fsync: config.fsync }, logger);
  // Every setting the bus section takes is one the Kafka adapters take, under the same name.
  const { kind: _kind, ...kafka } = config;
  return createKafkaClientBus(kafka, logger);
}

export function createObjectStore(config: StoreConfig): ObjectStore {
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

export interface CatalogOptions {
  logger: Logger;
  /** Holds the embedded catalog's metadata and the files it reads (required for DuckDB); HiveServer2 has its own metastore. */
  store?: ObjectStore;
  /** The DuckDB catalog's scratch parent when the config names none. */
  workDir?: string;
  /** Server-side limit on one query (the caller's own timeout usually ends it sooner). */
  queryTimeoutMs?: number;
  /** DuckDB: the tables to keep as its own sorted tables (the rollups insights reads), not views over files. */
  materializedTables?: readonly string[];
  /** DuckDB: the file those tables are kept in across restarts when the config names none. */
  databaseFile?: string;
}

/**
 * Both halves of one adapter: for a process that shares it between the
 * loader and insights (one machine), so both see every change at once.
 */
export async function createCatalog(config: CatalogConfig, options: CatalogOptions): Promise<Catalog> {
  const { logger, queryTimeoutMs, store } = options;
  if (config.kind === 'hive') {
    return new HiveCatalog({
      host: config.host,
      port: config.port,
      auth: config.auth,
      poolSize: config.poolSize,
      ...(config.database ? { database: config.database } : {}),
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      ...(queryTimeoutMs ? { queryTimeoutMs } : {}),
      logger,
    });
  }
  if (!store) throw new Error('the DuckDB catalog needs an object store (createCatalog options.store)');
  const workDir = config.workDir ?? options.workDir;
  const databaseFile = config.databaseFile ?? options.databaseFile;
  return DuckDbCatalog.create({
    store,
    logger,
    ...(workDir ? { workDir } : {}),
    ...(queryTimeoutMs ? { queryTimeoutMs } : {}),
    ...(config.threads ? { threads: config.threads } : {}),
    ...(config.memoryLimit ? { memoryLimit: config.memoryLimit } : {}),
    ...(config.metadataKey ? { metadataKey: config.metadataKey } : {}),
    ...(config.connections ? { connections: config.connections } : {}),
    ...(options.materializedTables ? { materializedTables: options.materializedTables } : {}),
    ...(databaseFile ? { databaseFile } : {}),
  });
}

/** The loader's view of a catalog: registering only. */
export function createMetastore(config: CatalogConfig, options: CatalogOptions): Promise<Metastore> {
  return createCatalog(config, options);
}

/** Insights' view of a catalog: queries only. */
export function createQueryEngine(config: CatalogConfig, options: CatalogOptions): Promise<QueryEngine> {
  return createCatalog(config, options);
}
