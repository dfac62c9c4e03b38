/**
 * @module `npm start`: the whole pipeline in one process (docs/architecture.md,
 * "The dependency rule"). The composition root, which nothing imports: it reads one
 * config file whose sections each deployable owns (edge/config.ts,
 * loader/config.ts, insights/config.ts), opens the three ports once (embedded
 * by default: the local durable log under <data>/bus, a directory under
 * <data>/warehouse, DuckDB; or Kafka, S3 and HiveServer2 by configuration) and
 * hands them to each deployable's own start function. A small control server
 * beside them serves the loader's metrics and lets the demo (or you) run a load.
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
import {
  ConfigError as EdgeConfigError,
  edgeConfigOfSection,
  edgeSectionFromEnv,
  edgeSectionSchema,
  projectsSectionSchema,
} from './edge/config.ts';
import { startEdge } from './edge/node.ts';
import { insightsConfigOfSection, insightsSectionSchema } from './insights/config.ts';
import { startInsights } from './insights/start.ts';
import { loaderConfigOfSection, loaderSectionSchema } from './loader/config.ts';
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
import { acquireDirectoryLock } from './shared/directory-lock.ts';
import { InputError } from './shared/errors.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { httpServerSettingsSchema, listenOnNode } from './shared/node-server.ts';
import { hideSecrets } from './shared/secret-display.ts';

// ---------------------------------------------------------------- configuration

const port = z.number().int().min(1).max(32767); // Linux hands out outgoing ports from 32768 up.
const tableName = z.string().regex(/^[a-z_][a-z0-9_]{0,127}$/, 'lower-case letters, digits and _');
const topic = { topic: z.string().min(1).default('events') };

// The shared sections (adapters: shared/adapters-config.ts), then each deployable's own.
const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Every server's deadlines for slow clients and header limits: edge, insights, control (shared/node-server.ts). */
  http: httpServerSettingsSchema.prefault({}),
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
  projects: projectsSectionSchema,
  /**
   * Adds the project whose keys this process generates in <dataDir>/keys.json on its first run.
   * It allows the loopback origins of the edge and the dashboard; `{"allowedOrigins": [...]}`
   * adds more (the site you try the tracker on), `"*"` among them allowing any.
   */
  demoProject: z
    .union([z.boolean(), z.strictObject({ allowedOrigins: z.array(z.string().min(1)) })])
    .default(true),
  edge: edgeSectionSchema,
  loader: loaderSectionSchema,
  insights: insightsSectionSchema,
  control: z.strictObject({ port: port.default(8084) }).prefault({}),
});

type Config = z.output<typeof configSchema>;
type Json = Record<string, unknown>;

class ConfigError extends Error {}

type CliOptions = Partial<Record<'config' | 'dataDir' | 'host' | 'loaderCron' | 'logLevel', string>> &
  Partial<Record<'edgePort' | 'insightsPort' | 'controlPort', number>> & { check?: boolean };

/**
 * Environment variables (README, "Configuration"): BEACON_* for this process,
 * and the stack's own names (KAFKA_BROKERS, S3_*, HIVE_*, as in stack.env) to
 * fill an adapter's settings. BEACON_BUS/STORE/CATALOG switch the adapter; the
 * others apply to the adapter the file (or the switch) chose.
 */
function fromEnvironment(env: NodeJS.ProcessEnv, file: Json): Json {
  const numberOf = (v: string | undefined) => (v ? Number(v) : undefined);
  const out: Json = {
    dataDir: env.BEACON_DATA_DIR || undefined,
    host: env.BEACON_HOST || undefined,
    logLevel: env.LOG_LEVEL || undefined,
    edge: edgeSectionFromEnv(env),
    insights: { port: numberOf(env.BEACON_INSIGHTS_PORT) },
    control: { port: numberOf(env.BEACON_CONTROL_PORT) },
    loader: { cron: env.BEACON_LOADER_CRON || undefined },
  };
  const kindOf = (name: string, switchVar: string | undefined, fallback: string): string => {
    if (switchVar) out[name] = { kind: switchVar };
    return switchVar ?? ((file[name] as Json | undefined)?.kind as string | undefined) ?? fallback;
  };
  const brokers = kafkaBrokersFromEnv(env);
  if (kindOf('bus', env.BEACON_BUS, 'local') === 'kafka' && brokers)
    out.bus = { ...(out.bus as Json), brokers };
  if (kindOf('store', env.BEACON_STORE, 'dir') === 's3')
    out.store = { ...(out.store as Json), ...s3SettingsFromEnv(env) };
  if (kindOf('catalog', env.BEACON_CATALOG, 'duckdb') === 'hive')
    out.catalog = { ...(out.catalog as Json), ...hiveSettingsFromEnv(env) };
  return out;
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
  const flags: Json = {
    dataDir: cli.dataDir,
    host: cli.host,
    logLevel: cli.logLevel,
    edge: { port: cli.edgePort },
    insights: { port: cli.insightsPort },
    control: { port: cli.controlPort },
    loader: { cron: cli.loaderCron },
  };
  const result = configSchema.safeParse(
    mergeConfigLayers(mergeConfigLayers(file, fromEnvironment(env, file)), flags),
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

/** Every deployable's config, from its own section, validated before anything opens a port or a file. */
async function plan(config: Config) {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const secrets = await localSecrets(dataDir);
  const { id, name, writeKey, readKey } = secrets.project;
  // Room for `npm run demo` sending a few days of traffic at once.
  const keys = { writeKeys: [writeKey], readKeys: [readKey], allowedOrigins: demoOrigins(config) };
  const demo = { id, name, ...keys, rateLimit: { perSecond: 5000, burst: 50_000 } };
  const projects = [...config.projects, ...(config.demoProject ? [demo] : [])];
  if (projects.length === 0)
    throw new ConfigError('No project: list some under "projects" or set "demoProject": true');
  const { bus, tables, logLevel, host } = config;
  const edge = edgeConfigOfSection(config.edge, {
    host,
    projects,
    topic: bus.topic,
    partitions: bus.partitions,
    spoolDir: join(dataDir, 'spool'),
    generated: secrets,
    http: config.http,
  });
  const tempDir = join(dataDir, 'tmp', 'loader');
  const loader = loaderConfigOfSection(config.loader, { topic: bus.topic, tables, tempDir, logLevel });
  // The catalog is passed in (one for both the loader and insights); the engine names its dialect.
  const engine =
    config.catalog.kind === 'hive'
      ? config.catalog
      : { kind: 'duckdb' as const, store: storeOf(config, dataDir) };
  const insights = insightsConfigOfSection(config.insights, {
    host,
    projects,
    engine,
    tables,
    logLevel,
    http: config.http,
  });
  return { config, dataDir, secrets, edge, loader, insights };
}

/**
 * The browser origins the demo project allows: pages of the edge (`/t.js`)
 * and of the dashboard, as a browser on this machine names them (127.0.0.1 and
 * localhost, and the configured host when it is another address), plus what
 * the file adds. CORS is by explicit grant only (edge/README.md, "CORS").
 */
function demoOrigins(config: Pick<Config, 'host' | 'edge' | 'insights' | 'demoProject'>): string[] {
  const hosts = new Set(['127.0.0.1', 'localhost']);
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  if (!wildcard) hosts.add(config.host.includes(':') ? `[${config.host}]` : config.host);
  const origins = [config.edge.port, config.insights.port].flatMap((port) =>
    [...hosts].map((host) => `http://${host}:${port}`),
  );
  const extra = typeof config.demoProject === 'object' ? config.demoProject.allowedOrigins : [];
  return [...new Set([...origins, ...extra])];
}

/** The store config with the directory resolved: <dataDir>/warehouse unless the file names one. */
function storeOf({ store }: Config, dataDir: string): StoreConfig {
  return store.kind === 's3'
    ? store
    : { kind: 'dir', root: resolve(store.root ?? join(dataDir, 'warehouse')) };
}

// ---------------------------------------------------------------- start and stop

/** Opens the ports, starts each deployable (the edge last), writes `<dataDir>/run.json`; closes in reverse. */
async function startAll(p: Awaited<ReturnType<typeof plan>>, log: Logger) {
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

    const busConfig = config.bus.kind === 'local' ? { ...config.bus, dir: join(dataDir, 'bus') } : config.bus;
    const bus = await createEventBus(busConfig, logger('bus'));
    onStop('bus', () => bus.close());
    const store = createObjectStore(storeOf(config, dataDir));
    // One catalog for the loader (which registers) and insights (which queries): both see every change at once.
    const workDir = join(dataDir, 'tmp', 'duckdb');
    const catalog = await createCatalog(config.catalog, { store, workDir, logger: logger('catalog') });
    onStop('catalog', () => catalog.close());
    // Tables ensured: the dashboard asks for them before the first load has made them.
    const schedule = config.loader.cron !== 'off';
    const ports = { bus, store, catalog };
    const loader = await startLoader(p.loader, {
      ports,
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
    /** What the demo and tests read about the live process (test/demo/one-machine.ts); removed on a clean stop. */
    const run = {
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
    onStop('run.json', () => rm(runFile, { force: true }));

    // Whatever the last session acknowledged but did not load (Ctrl-C between loads, kill -9) is loaded now.
    loader.runInBackground();
    return { run, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

type RunInfo = Awaited<ReturnType<typeof startAll>>['run'];

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

/** The first SIGINT/SIGTERM stops in order; a later one exits at once (safe: see the module note). */
function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt) {
      // Ctrl-C under `npm start` reaches us twice at once (the terminal's, and npm forwarding its own): one press.
      if (Date.now() - firstSignalAt < 1000) return;
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    log.info(
      { signal },
      'stopping: draining the edge, letting a load in progress finish (Ctrl-C again: exit now)',
    );
    stop().then(
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

async function main(argv: string[]): Promise<void> {
  const cli = new Command('start')
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
    .option('--check', 'validate the configuration, print it (keys as fingerprints, secrets hidden) and exit')
    .parse(argv)
    .opts<CliOptions>();
  const config = await loadConfig(cli, process.env);
  if (cli.check) {
    // Write and read keys as fingerprints, secrets as *** (shared/secret-display.ts); the demo
    // project's origins resolved, as the edge will allow them.
    const shown = { ...config, demoProject: config.demoProject && { allowedOrigins: demoOrigins(config) } };
    process.stdout.write(`${JSON.stringify(shown, hideSecrets, 2)}\n`);
    return;
  }
  const log = createLogger('one-machine', config.logLevel);
  const p = await plan(config);
  const { run, stop } = await startAll(p, log);
  // Keys and tokens stay out of the logs: they are in the banner and in <dataDir>/run.json (owner-only).
  const { controlToken: _t, relaySecret: _s, project, ...visible } = run;
  log.info({ ...visible, project: project.id }, 'one-machine ready');
  // For the person at the terminal, on stderr: stdout stays pure JSON lines for whatever collects the logs.
  process.stderr.write(banner(run, p.dataDir));
  stopOnSignals(stop, log);
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
