/**
 * @module `startInsights(config)`: builds the engine's catalog and dialect,
 * the app, and serves it on Node. Used by insights/node.ts and by the
 * one-machine composition, which may pass a catalog it already has.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Catalog } from '../shared/catalog/catalog.ts';
import { DuckDbCatalog } from '../shared/catalog/duckdb-catalog.ts';
import { HiveCatalog } from '../shared/catalog/hive-catalog.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { DirObjectStore } from '../shared/object-store/dir-object-store.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import { S3ObjectStore } from '../shared/object-store/s3-object-store.ts';
import { createInsightsApp } from './app.ts';
import { type InsightsConfig, type InsightsConfigInput, parseInsightsConfig } from './config.ts';
import type { Dialect } from './dialect/dialect.ts';
import { duckdbDialect } from './dialect/duckdb-dialect.ts';
import { hiveDialect } from './dialect/hive-dialect.ts';
import { createInsightsMetrics } from './metrics.ts';
import { createProjectRegistry } from './projects.ts';
import { createResultCache } from './result-cache.ts';

export interface RunningInsights {
  url: string;
  port: number;
  catalog: Catalog;
  /** Stops accepting requests, lets those in flight finish, closes the catalog it opened. */
  close(): Promise<void>;
}

export interface StartOverrides {
  logger?: Logger;
  /** A catalog to use instead of opening one from config (its engine must match config.engine.kind). */
  catalog?: Catalog;
}

function storeOf(config: Extract<InsightsConfig['engine'], { kind: 'duckdb' }>['store']): ObjectStore {
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

async function openEngine(
  config: InsightsConfig,
  logger: Logger,
): Promise<{ catalog: Catalog; dialect: Dialect }> {
  const engine = config.engine;
  if (engine.kind === 'hive') {
    const catalog = new HiveCatalog({
      host: engine.host,
      port: engine.port,
      auth: engine.auth,
      poolSize: engine.poolSize,
      ...(engine.username ? { username: engine.username } : {}),
      ...(engine.password ? { password: engine.password } : {}),
      ...(engine.database ? { database: engine.database } : {}),
      // The service's own timeout ends queries sooner; this is the server-side backstop.
      queryTimeoutMs: config.queryTimeoutMs * 2,
      logger: logger.child({ component: 'hive-catalog' }),
    });
    return { catalog, dialect: hiveDialect };
  }
  const catalog = await DuckDbCatalog.create({
    store: storeOf(engine.store),
    connections: engine.connections,
    queryTimeoutMs: config.queryTimeoutMs * 2,
    logger: logger.child({ component: 'duckdb-catalog' }),
    ...(engine.metadataKey ? { metadataKey: engine.metadataKey } : {}),
    ...(engine.workDir ? { workDir: engine.workDir } : {}),
    ...(engine.threads ? { threads: engine.threads } : {}),
    ...(engine.memoryLimit ? { memoryLimit: engine.memoryLimit } : {}),
  });
  return { catalog, dialect: duckdbDialect };
}

export async function startInsights(
  input: InsightsConfigInput,
  overrides: StartOverrides = {},
): Promise<RunningInsights> {
  const config = parseInsightsConfig(input);
  const logger = overrides.logger ?? createLogger('insights', config.logLevel);
  const opened = overrides.catalog
    ? { catalog: overrides.catalog, dialect: config.engine.kind === 'hive' ? hiveDialect : duckdbDialect }
    : await openEngine(config, logger);
  const app = createInsightsApp({
    catalog: opened.catalog,
    dialect: opened.dialect,
    tables: config.tables,
    projects: createProjectRegistry(config.projects),
    cache: createResultCache(config.cache),
    metrics: createInsightsMetrics(),
    logger,
    rollups: config.rollups,
    queryTimeoutMs: config.queryTimeoutMs,
  });
  const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.http.host}:${port}`;
  logger.info({ url, engine: config.engine.kind, projects: config.projects.length }, 'insights listening');
  return {
    url,
    port,
    catalog: opened.catalog,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!overrides.catalog) await opened.catalog.close();
    },
  };
}
