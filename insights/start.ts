/**
 * @module `startInsights(config)`: builds the engine's catalog and dialect,
 * the app, and serves it on Node. Used by insights/node.ts and by the
 * one-machine composition, which may pass a catalog it already has.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createObjectStore, createQueryEngine } from '../shared/adapters.ts';
import type { StoreConfig } from '../shared/adapters-config.ts';
import { defaultWorkDir } from '../shared/catalog/duckdb/duckdb-catalog.ts';
import type { QueryEngine } from '../shared/catalog/query-engine.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { listenOnNode } from '../shared/node-server.ts';
import { rollupTableNames } from '../shared/warehouse.ts';
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
  catalog: QueryEngine;
  /** Stops accepting requests, lets those in flight finish, closes the catalog it opened. */
  close(): Promise<void>;
}

export interface StartOverrides {
  logger?: Logger;
  /** A catalog to use instead of opening one from config (its engine must match config.engine.kind). */
  catalog?: QueryEngine;
}

async function openEngine(
  config: InsightsConfig,
  logger: Logger,
): Promise<{ catalog: QueryEngine; dialect: Dialect }> {
  const engine = config.engine;
  // The service's own timeout ends queries sooner; this is the server-side backstop.
  const queryTimeoutMs = config.queryTimeoutMs * 2;
  if (engine.kind === 'hive') {
    const catalog = await createQueryEngine(engine, {
      logger: logger.child({ component: 'hive-catalog' }),
      queryTimeoutMs,
    });
    return { catalog, dialect: hiveDialect };
  }
  const { store, ...catalogConfig } = engine;
  const catalog = await createQueryEngine(
    { ...catalogConfig, memoryLimit: catalogConfig.memoryLimit ?? ROLLUPS_MEMORY_LIMIT },
    {
      store: createObjectStore(store),
      logger: logger.child({ component: 'duckdb-catalog' }),
      queryTimeoutMs,
      materializedTables: rollupTableNames(config.tables),
      databaseFile: rollupsFileOf(store, catalogConfig.workDir),
    },
  );
  // Read the metadata and bring the rollups' file up to it now, before the port opens: otherwise
  // the first dashboard to ask waits for it. A restart copies only the partitions changed since.
  const started = Date.now();
  await catalog.query('SELECT 1 AS ok');
  logger.info({ ms: Date.now() - started }, 'duckdb catalog loaded, rollups up to date');
  return { catalog, dialect: duckdbDialect };
}

/**
 * DuckDB's memory_limit when the config sets none (DuckDB's own default is 80 % of the
 * machine): the rollups live in a file, so the buffer pool holds what queries touch and the
 * process stays this size however large the warehouse.
 */
export const ROLLUPS_MEMORY_LIMIT = '1GB';

/**
 * Where the rollups are kept across restarts when `engine.databaseFile` names no file: beside
 * the catalog's metadata in a directory store (`_` names are hidden from the warehouse's
 * readers, as Hive hides them), else under `workDir`, named by the bucket and prefix.
 */
export function rollupsFileOf(store: StoreConfig, workDir: string | undefined): string {
  if (store.kind === 'dir') return join(resolve(store.root), '_catalog', 'insights-rollups.duckdb');
  const id = createHash('sha256')
    .update(`${store.endpoint ?? ''}|${store.bucket}|${store.prefix}`)
    .digest('hex')
    .slice(0, 16);
  return join(workDir ?? defaultWorkDir(), `insights-rollups-${id}.duckdb`);
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
  const { host, port: wanted, ...http } = config.http;
  const server = await listenOnNode(app.fetch, { host, port: wanted, http });
  const { url, port } = server;
  logger.info({ url, engine: config.engine.kind, projects: config.projects.length }, 'insights listening');
  return {
    url,
    port,
    catalog: opened.catalog,
    async close() {
      await server.close();
      if (!overrides.catalog) await opened.catalog.close();
    },
  };
}
