/**
 * @module The composition: opens the three ports once (one bus, one store, one
 * catalog for every deployable), starts each deployable with them (the edge
 * last), serves the loader's control app, writes `<dataDir>/run.json`, and
 * closes everything in reverse order.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startEdge } from '../../edge/node.ts';
import { ROLLUPS_MEMORY_LIMIT, rollupsFileOf, startInsights } from '../../insights/start.ts';
import { createLoaderControlApp } from '../../loader/control-app.ts';
import { startLoader } from '../../loader/start.ts';
import { createCatalog, createEventBus, createObjectStore } from '../../shared/adapters.ts';
import { ConfigError } from '../../shared/config/config-error.ts';
import { type RunInfo, runFileOf, writePrivateJson } from '../../shared/config/data-dir.ts';
import { busOf, catalogOf, storeOf } from '../../shared/config/pipeline-config.ts';
import { acquireDirectoryLock } from '../../shared/directory-lock.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { listenOnNode } from '../../shared/node-server.ts';
import { rollupTableNames } from '../../shared/warehouse.ts';
import type { Plan } from './plan.ts';

export interface Running {
  run: RunInfo;
  /** Closes in reverse order of opening: the edge drains into the bus before the bus closes. */
  stop(): Promise<void>;
}

/** Opens the ports, starts each deployable (the edge last), writes `<dataDir>/run.json`; closes in reverse. */
export async function startAll(p: Plan, log: Logger): Promise<Running> {
  const { config, dataDir, secrets } = p;
  const logger = (name: string) => createLogger(name, config.logLevel);
  const closers: [string, () => Promise<unknown>][] = [];
  const onStop = (part: string, close: () => Promise<unknown>) => closers.push([part, close]);
  const stop = async () => {
    for (const [part, close] of closers.reverse())
      await close().catch((err: unknown) => log.error({ err, part }, 'could not close cleanly'));
  };
  try {
    const lock = await acquireDirectoryLock(dataDir).catch((err: unknown) => {
      throw new ConfigError(`Another process uses the data directory ${dataDir}: ${(err as Error).message}`);
    });
    onStop('data-dir lock', () => lock.release());
    // Scratch space of a process that died (kill -9): nothing in it outlives the process that made it.
    await rm(join(dataDir, 'tmp'), { recursive: true, force: true });

    const bus = await createEventBus(busOf(config), logger('bus'));
    onStop('bus', () => bus.close());
    const store = createObjectStore(storeOf(config));
    // One catalog for the loader (which registers) and insights (which queries): both see every change at once.
    // The rollups are DuckDB tables in a file (as the standalone insights service keeps them): each
    // load copies only the hours it wrote, a restart only what changed meanwhile, and the buffer
    // pool's memory_limit keeps the process's size flat (the soak test checks it).
    const catalogConfig = catalogOf(config);
    const catalog = await createCatalog(
      catalogConfig.kind === 'duckdb'
        ? { ...catalogConfig, memoryLimit: catalogConfig.memoryLimit ?? ROLLUPS_MEMORY_LIMIT }
        : catalogConfig,
      {
        store,
        logger: logger('catalog'),
        materializedTables: rollupTableNames(p.insights.tables),
        databaseFile: rollupsFileOf(storeOf(config), dataDir),
      },
    );
    onStop('catalog', () => catalog.close());
    // Tables ensured: the dashboard asks for them before the first load has made them.
    const schedule = config.loader.cron !== 'off';
    const loader = await startLoader(p.loader, {
      ports: { bus, store, catalog },
      logger: logger('loader'),
      schedule,
      ensureTables: true,
    });
    onStop('loader', () => loader.stop());
    const insights = await startInsights(p.insights, { catalog, logger: logger('insights') });
    onStop('insights', () => insights.close());
    // The loader has no HTTP surface of its own in this process: its metrics, status and a load on demand.
    const controlApp = createLoaderControlApp(loader, { token: secrets.controlToken, logger: log });
    const control = await listenOnNode(controlApp.fetch, {
      host: config.host,
      port: config.control.port,
      http: config.http,
    });
    onStop('control', () => control.close());
    // Last to start, first to stop: it drains what it acknowledged into the bus before the bus closes.
    const edge = await startEdge(p.edge, { bus, logger: logger('edge') });
    onStop('edge', () => edge.close());

    const first = config.projects[0];
    const project =
      config.demoProject || !first
        ? secrets.project
        : { id: first.id, writeKey: first.writeKeys[0] ?? '', readKey: first.readKeys[0] ?? '' };
    const run: RunInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      edgeUrl: edge.url,
      insightsUrl: insights.url,
      controlUrl: control.url,
      controlToken: secrets.controlToken,
      relaySecret: p.edge.relaySecret ?? null,
      project: { id: project.id, writeKey: project.writeKey, readKey: project.readKey },
      adapters: { bus: config.bus.kind, store: config.store.kind, catalog: config.catalog.kind },
      loaderCron: config.loader.cron,
    };
    const runFile = runFileOf(dataDir);
    await writePrivateJson(runFile, run);
    onStop('run.json', () => rm(runFile, { force: true }));

    // Whatever the last session acknowledged but did not load (Ctrl-C between loads, kill -9) is loaded now.
    loader.runInBackground();
    return { run, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
