/**
 * @module `npm start`: the whole pipeline in one process (DESIGN.md, "The
 * dependency rule"). The composition root, which nothing imports: it reads one
 * config file, opens the three ports once (embedded by default: the local
 * durable log under <data>/bus, a directory under <data>/warehouse, DuckDB;
 * or Kafka, S3 and HiveServer2 by configuration) and hands them to each
 * deployable's own start function: the edge, the loader on its schedule, and
 * insights with its dashboard. A small control server beside them serves the
 * loader's metrics and lets the demo (or you) run a load now.
 *
 * Stopping (SIGINT/SIGTERM): the edge stops taking requests and drains what it
 * acknowledged into the bus, a load in progress finishes, then everything
 * closes. A second signal exits at once: everything acknowledged is already
 * durable (bus or spool), and a load cut short is repaired by the next one.
 *
 *   node start.ts [--config beacon.config.json] [--data-dir ./data] [--edge-port 8080] …
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { ConfigError as EdgeConfigError, parseEdgeConfig } from './edge/config.ts';
import { type EdgeHandle, startEdge } from './edge/node.ts';
import { insightsConfigOfSection, insightsSectionSchema } from './insights/config.ts';
import { startInsights } from './insights/start.ts';
import { type LoaderConfig, loaderConfigOfSection, loaderSectionSchema } from './loader/config.ts';
import { createLoaderControlApp } from './loader/control-app.ts';
import { startLoader } from './loader/start.ts';
import { createCatalog, createEventBus, createObjectStore } from './shared/adapters.ts';
import {
  dirStoreConfigSchema,
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema,
  hiveSettingsFromEnv,
  isJsonObject,
  kafkaBrokersFromEnv,
  kafkaBusConfigSchema,
  localBusConfigSchema,
  mergeConfigLayers,
  type StoreConfig,
  s3SettingsFromEnv,
  s3StoreConfigSchema,
} from './shared/adapters-config.ts';
import { acquireDirectoryLock, type DirectoryLock } from './shared/bus/directory-lock.ts';
import { InputError } from './shared/errors.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { listenOnNode } from './shared/node-server.ts';

// ---------------------------------------------------------------- configuration

const port = z.number().int().min(1).max(32767); // Linux hands out outgoing ports from 32768 up.
const tableName = z.string().regex(/^[a-z_][a-z0-9_]{0,127}$/, 'lower-case letters, digits and _');
const topic = { topic: z.string().min(1).default('events') };

// The adapters' own settings (shared/adapters-config.ts); the bus directory and scratch space live in the data dir.
const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  bus: z
    .discriminatedUnion('kind', [
      localBusConfigSchema
        .omit({ dir: true })
        .extend({ ...topic, partitions: z.number().int().positive().default(3) }),
      kafkaBusConfigSchema.extend({ ...topic, partitions: z.number().int().positive().default(6) }),
    ])
    .default({ kind: 'local', fsync: 'always', topic: 'events', partitions: 3 }),
  store: z
    .discriminatedUnion('kind', [
      dirStoreConfigSchema.extend({ root: z.string().min(1).optional() }),
      s3StoreConfigSchema,
    ])
    .default({ kind: 'dir' }),
  catalog: z
    .discriminatedUnion('kind', [
      duckdbCatalogConfigSchema.pick({ kind: true, memoryLimit: true, threads: true }),
      hiveCatalogConfigSchema,
    ])
    .default({ kind: 'duckdb' }),
  tables: z
    .strictObject({
      events: tableName.default('events'),
      eventsHourly: tableName.default('events_hourly'),
      visitorsHourly: tableName.default('visitors_hourly'),
    })
    .prefault({}),
  projects: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (64 at most)'),
        name: z.string().max(200).optional(),
        writeKeys: z.array(z.string().min(8)).min(1),
        readKeys: z.array(z.string().regex(/^[\x21-\x7e]{16,256}$/, '16 to 256 printable ASCII characters')),
        allowedOrigins: z.array(z.string().min(1)).default([]),
        rateLimit: z
          .strictObject({ perSecond: z.number().positive(), burst: z.number().int().positive() })
          .optional(),
      }),
    )
    .default([]),
  /** Adds the project whose keys this process generates in <dataDir>/keys.json on its first run. */
  demoProject: z.boolean().default(true),
  edge: z
    .strictObject({
      port: port.default(8080),
      ipSalt: z.string().min(16).optional(),
      /** Enables the signed POST /v1/relay (history backfill by `npm run demo`); false turns it off. */
      relaySecret: z.union([z.string().min(16), z.literal(false)]).optional(),
      countryHeader: z.string().optional(),
      clientIpHeader: z.string().optional(),
      limits: z.record(z.string(), z.unknown()).optional(),
      sink: z.record(z.string(), z.unknown()).optional(),
      spoolMaxBytes: z.number().int().positive().optional(),
      shutdownGraceMs: z.number().int().nonnegative().default(10_000),
    })
    .prefault({}),
  loader: loaderSectionSchema,
  insights: insightsSectionSchema,
  control: z.strictObject({ port: port.default(8084) }).prefault({}),
});

type Config = z.output<typeof configSchema>;
type Json = Record<string, unknown>;

class ConfigError extends Error {}

const numberOf = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/**
 * Environment variables (README, "Configuration"): BEACON_* for this process,
 * and the stack's own names (KAFKA_BROKERS, S3_*, HIVE_*, as in stack.env) to
 * fill an adapter's settings. BEACON_BUS/STORE/CATALOG switch the adapter; the
 * others apply to the adapter the file (or the switch) chose.
 */
function fromEnvironment(env: NodeJS.ProcessEnv, file: Json): Json {
  const out: Json = {};
  const section = (name: string): Json => {
    if (!isJsonObject(out[name])) out[name] = {};
    return out[name] as Json;
  };
  if (env.BEACON_DATA_DIR) out.dataDir = env.BEACON_DATA_DIR;
  if (env.BEACON_HOST) out.host = env.BEACON_HOST;
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  if (env.BEACON_EDGE_PORT) section('edge').port = numberOf(env.BEACON_EDGE_PORT);
  if (env.BEACON_INSIGHTS_PORT) section('insights').port = numberOf(env.BEACON_INSIGHTS_PORT);
  if (env.BEACON_CONTROL_PORT) section('control').port = numberOf(env.BEACON_CONTROL_PORT);
  if (env.BEACON_LOADER_CRON) section('loader').cron = env.BEACON_LOADER_CRON;
  const kindOf = (name: string, switchVar: string | undefined, fallback: string): string => {
    if (switchVar) section(name).kind = switchVar;
    return switchVar ?? ((file[name] as Json | undefined)?.kind as string | undefined) ?? fallback;
  };
  const brokers = kafkaBrokersFromEnv(env);
  if (kindOf('bus', env.BEACON_BUS, 'local') === 'kafka' && brokers) section('bus').brokers = brokers;
  if (kindOf('store', env.BEACON_STORE, 'dir') === 's3')
    Object.assign(section('store'), s3SettingsFromEnv(env));
  if (kindOf('catalog', env.BEACON_CATALOG, 'duckdb') === 'hive')
    Object.assign(section('catalog'), hiveSettingsFromEnv(env));
  return out;
}

interface CliOptions {
  config?: string;
  dataDir?: string;
  host?: string;
  edgePort?: number;
  insightsPort?: number;
  controlPort?: number;
  loaderCron?: string;
  logLevel?: string;
  check?: boolean;
}

function fromCli(o: CliOptions): Json {
  return {
    dataDir: o.dataDir,
    host: o.host,
    logLevel: o.logLevel,
    edge: { port: o.edgePort },
    insights: { port: o.insightsPort },
    control: { port: o.controlPort },
    loader: { cron: o.loaderCron },
  };
}

/** Defaults ← file ← environment ← command line, validated once; a ConfigError names every bad field. */
async function loadConfig(cli: CliOptions, env: NodeJS.ProcessEnv): Promise<Config> {
  const path = cli.config ?? env.BEACON_CONFIG;
  let file: Json = {};
  if (path) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`Cannot read the config file ${path}: ${(err as Error).message}`);
    }
    if (!isJsonObject(parsed)) throw new ConfigError(`${path} must hold a JSON object`);
    file = parsed;
  }
  const result = configSchema.safeParse(
    mergeConfigLayers(mergeConfigLayers(file, fromEnvironment(env, file)), fromCli(cli)),
  );
  if (!result.success) {
    throw new ConfigError(
      `Invalid configuration${path ? ` (${path}, overridden by environment and flags)` : ''}:\n${z.prettifyError(result.error)}`,
    );
  }
  return result.data;
}

// ---------------------------------------------------------------- data-dir secrets

/** What the first run generates and every later run reuses, so keys printed once stay valid. */
const localSecretsSchema = z.object({
  project: z.object({ id: z.string(), name: z.string(), writeKey: z.string(), readKey: z.string() }),
  ipSalt: z.string().min(16),
  relaySecret: z.string().min(16),
  controlToken: z.string().min(16),
});
type LocalSecrets = z.output<typeof localSecretsSchema>;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Written whole (temp file, then rename) and readable by the owner only. */
async function writePrivateJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

async function localSecrets(dataDir: string): Promise<LocalSecrets> {
  const path = join(dataDir, 'keys.json');
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text !== null) {
    const parsed = localSecretsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    throw new ConfigError(`${path} is damaged; delete it to get new demo keys`);
  }
  const secrets: LocalSecrets = {
    project: {
      id: 'demo',
      name: 'Demo site',
      writeKey: `wk_demo_${token(18)}`,
      readKey: `rk_demo_${token(24)}`,
    },
    ipSalt: token(24),
    relaySecret: token(32),
    controlToken: token(24),
  };
  await writePrivateJson(path, secrets);
  return secrets;
}

// ---------------------------------------------------------------- each deployable's config

interface Plan {
  config: Config;
  dataDir: string;
  secrets: LocalSecrets;
  edge: Parameters<typeof startEdge>[0];
  loader: LoaderConfig;
  insights: ReturnType<typeof insightsConfigOfSection>;
}

/** Every deployable's config, validated before anything opens a port or a file. */
async function plan(config: Config): Promise<Plan> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const secrets = await localSecrets(dataDir);
  const projects = [
    ...config.projects,
    ...(config.demoProject
      ? [
          {
            id: secrets.project.id,
            name: secrets.project.name,
            writeKeys: [secrets.project.writeKey],
            readKeys: [secrets.project.readKey],
            allowedOrigins: [],
            // Room for `npm run demo` sending a few days of traffic at once.
            rateLimit: { perSecond: 5000, burst: 50_000 },
          },
        ]
      : []),
  ];
  if (projects.length === 0)
    throw new ConfigError('No project: list some under "projects" or set "demoProject": true');
  const { bus, edge } = config;
  const relaySecret = edge.relaySecret === false ? undefined : (edge.relaySecret ?? secrets.relaySecret);
  const edgeConfig = parseEdgeConfig({
    host: config.host,
    port: edge.port,
    projects: projects.map(({ name: _name, ...p }) => p),
    ...(edge.limits ? { limits: edge.limits } : {}),
    ipSalt: edge.ipSalt ?? secrets.ipSalt,
    ...(relaySecret ? { relaySecret } : {}),
    ...(edge.countryHeader ? { countryHeader: edge.countryHeader } : {}),
    ...(edge.clientIpHeader ? { clientIpHeader: edge.clientIpHeader } : {}),
    // The edge's schema asks for brokers; on the local log they are never used (the bus is passed in).
    kafka: {
      brokers: bus.kind === 'kafka' ? bus.brokers : ['local-log'],
      clientId: bus.kind === 'kafka' ? `${bus.clientId}-edge` : 'beacon-edge',
      topic: bus.topic,
      partitions: bus.partitions,
    },
    ...(edge.sink ? { sink: edge.sink } : {}),
    spool: { dir: join(dataDir, 'spool'), ...(edge.spoolMaxBytes ? { maxBytes: edge.spoolMaxBytes } : {}) },
    shutdownGraceMs: edge.shutdownGraceMs,
  });
  const loader = loaderConfigOfSection(config.loader, {
    topic: bus.topic,
    tables: config.tables,
    tempDir: join(dataDir, 'tmp', 'loader'),
    logLevel: config.logLevel,
  });
  const insights = insightsConfigOfSection(config.insights, {
    host: config.host,
    projects,
    // The catalog is passed in (one for both the loader and insights); the engine names its dialect.
    engine:
      config.catalog.kind === 'hive' ? config.catalog : { kind: 'duckdb', store: storeOf(config, dataDir) },
    tables: config.tables,
    logLevel: config.logLevel,
  });
  return { config, dataDir, secrets, edge: edgeConfig, loader, insights };
}

/** The store config with the directory resolved: <dataDir>/warehouse unless the file names one. */
function storeOf(config: Config, dataDir: string): StoreConfig {
  const { store } = config;
  return store.kind === 's3'
    ? store
    : { kind: 'dir', root: resolve(store.root ?? join(dataDir, 'warehouse')) };
}

// ---------------------------------------------------------------- start and stop

interface Running {
  run: RunInfo;
  stop(): Promise<void>;
}

/** What `<dataDir>/run.json` tells the demo and tests about the live process (removed on a clean stop). */
interface RunInfo {
  pid: number;
  startedAt: string;
  edgeUrl: string;
  insightsUrl: string;
  controlUrl: string;
  controlToken: string;
  relaySecret: string | null;
  project: { id: string; writeKey: string; readKey: string };
  adapters: { bus: string; store: string; catalog: string };
  loaderCron: string;
}

async function startAll(p: Plan, log: Logger): Promise<Running> {
  const { config, dataDir, secrets } = p;
  const level = config.logLevel;
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const closeAll = async () => {
    for (const { name, close } of closers.reverse()) {
      await close().catch((err: unknown) => log.error({ err, part: name }, 'could not close cleanly'));
    }
  };
  try {
    const lock: DirectoryLock = await acquireDirectoryLock(dataDir).catch((err: unknown) => {
      throw new ConfigError(`Another process uses the data directory ${dataDir}: ${(err as Error).message}`);
    });
    closers.push({ name: 'data-dir lock', close: () => lock.release() });
    // Scratch space of a process that died (kill -9): nothing in it outlives the process that made it.
    await rm(join(dataDir, 'tmp'), { recursive: true, force: true });

    const busConfig = config.bus.kind === 'local' ? { ...config.bus, dir: join(dataDir, 'bus') } : config.bus;
    const bus = await createEventBus(busConfig, createLogger('bus', level));
    closers.push({ name: 'bus', close: () => bus.close() });
    const store = createObjectStore(storeOf(config, dataDir));
    // One catalog for the loader (which registers) and insights (which queries): both see every change at once.
    const catalog = await createCatalog(config.catalog, {
      store,
      workDir: join(dataDir, 'tmp', 'duckdb'),
      logger: createLogger('catalog', level),
    });
    closers.push({ name: 'catalog', close: () => catalog.close() });

    const loader = await startLoader(p.loader, {
      ports: { bus, store, catalog },
      logger: createLogger('loader', level),
      schedule: config.loader.cron !== 'off',
      // The dashboard asks for the tables before the first load has made them.
      ensureTables: true,
    });
    closers.push({ name: 'loader', close: () => loader.stop() });

    const insights = await startInsights(p.insights, { catalog, logger: createLogger('insights', level) });
    closers.push({ name: 'insights', close: () => insights.close() });
    // The loader has no HTTP surface of its own in this process: its metrics, status and a load on demand.
    const controlApp = createLoaderControlApp(loader, { token: secrets.controlToken, logger: log });
    const control = await listenOnNode(controlApp.fetch, config.host, config.control.port);
    closers.push({ name: 'control', close: () => control.close() });
    // Last to start, first to stop: it drains what it acknowledged into the bus before the bus closes.
    const edge: EdgeHandle = await startEdge(p.edge, { bus, logger: createLogger('edge', level) });
    closers.push({ name: 'edge', close: () => edge.close() });

    const project = config.demoProject
      ? secrets.project
      : {
          id: config.projects[0]!.id,
          writeKey: config.projects[0]!.writeKeys[0]!,
          readKey: config.projects[0]!.readKeys[0] ?? '',
        };
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
    const runFile = join(dataDir, 'run.json');
    await writePrivateJson(runFile, run);
    closers.push({ name: 'run.json', close: () => rm(runFile, { force: true }) });

    // Whatever the last session acknowledged but did not load (Ctrl-C between loads, kill -9) is loaded now.
    loader.runInBackground();
    return { run, stop: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function banner(run: RunInfo, dataDir: string): string {
  const { project } = run;
  const day = 86_400_000;
  const from = new Date(Date.now() - 7 * day).toISOString().slice(0, 10);
  const to = new Date(Date.now() + day).toISOString().slice(0, 10);
  const schedule = run.loaderCron === 'off' ? 'only when asked' : `on the schedule "${run.loaderCron}" (UTC)`;
  return `
Beacon-to-Hive is running on one machine (${run.adapters.bus} bus, ${run.adapters.store} store, ${run.adapters.catalog} catalog; data in ${dataDir})

  Edge (collect)   ${run.edgeUrl}/v1/batch         tracker script: ${run.edgeUrl}/t.js
  Dashboard        ${run.insightsUrl}/             paste the read key when it asks
  Insights API     ${run.insightsUrl}/v1/insights/summary?from=${from}&to=${to}
  Loader           loads ${schedule}; control ${run.controlUrl}

  Project "${project.id}"   write key ${project.writeKey}
                   read key  ${project.readKey}

Send an event:
  curl -u '${project.writeKey}:' -H 'content-type: application/json' \\
    -d '{"type":"track","event":"Hello","anonymousId":"me","properties":{"from":"curl"}}' ${run.edgeUrl}/v1/track

Load it now instead of waiting for the schedule, then ask the API:
  curl -X POST -H 'authorization: Bearer ${run.controlToken}' ${run.controlUrl}/v1/loader/run
  curl -H 'authorization: Bearer ${project.readKey}' '${run.insightsUrl}/v1/insights/top?from=${from}&to=${to}&dimension=event'

Fill it with a few days of demo traffic: npm run demo        Stop: Ctrl-C
`;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('start')
    .description(
      'Beacon-to-Hive on one machine: edge, scheduled loader, insights and dashboard in one process.',
    )
    .option(
      '-c, --config <file>',
      'JSON config file (default: $BEACON_CONFIG; see beacon.config.example.json)',
    )
    .option('--data-dir <dir>', 'where the bus, warehouse, spool and keys live (default ./data)')
    .option('--host <host>', 'address every server binds (default 127.0.0.1)')
    .option('--edge-port <port>', 'edge port (default 8080)', Number)
    .option('--insights-port <port>', 'insights API and dashboard port (default 8083)', Number)
    .option('--control-port <port>', 'loader control port (default 8084)', Number)
    .option(
      '--loader-cron <expr>',
      'when loads run, cron in UTC, or "off" (default "* * * * *": every minute)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent')
    .option('--check', 'validate the configuration, print it (secrets hidden) and exit')
    .parse(argv);
  const cli = program.opts<CliOptions>();
  const config = await loadConfig(cli, process.env);
  if (cli.check) {
    process.stdout.write(
      `${JSON.stringify(config, (k, v) => (/secret|password|salt/i.test(k) && typeof v === 'string' ? '***' : v), 2)}\n`,
    );
    return;
  }
  const log = createLogger('one-machine', config.logLevel);
  const p = await plan(config);
  const running = await startAll(p, log);
  // Keys and tokens stay out of the logs: they are in the banner and in <dataDir>/run.json (owner-only).
  const { controlToken: _t, relaySecret: _s, project, ...visible } = running.run;
  log.info({ ...visible, project: project.id }, 'one-machine ready');
  // For the person at the terminal, on stderr: stdout stays pure JSON lines for whatever collects the logs.
  process.stderr.write(banner(running.run, p.dataDir));

  let stopping: Promise<void> | undefined;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Ctrl-C under `npm start` reaches us twice at once (the terminal's, and npm forwarding its own): one press.
      if (Date.now() - firstSignalAt < 1000) return;
      // Safe: every acknowledged event is in the bus or the spool, and a load cut short is redone by the next.
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    log.info(
      { signal },
      'stopping: draining the edge, letting a load in progress finish (Ctrl-C again: exit now)',
    );
    stopping = running.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exitCode = 0;
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Mistakes the user fixes (configuration, a port in use): a message, not a stack trace. */
function userError(err: unknown): string | null {
  if (err instanceof ConfigError || err instanceof EdgeConfigError || err instanceof InputError)
    return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES')
    return `${(err as Error).message}: pick another port (--edge-port, --insights-port, --control-port) or stop what holds it`;
  return null;
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    const message = userError(err);
    process.stderr.write(`start: ${message ?? (err as Error).stack ?? String(err)}\n`);
    process.exit(message === null ? 1 : 2);
  });
}
