/**
 * @module The pipeline file: one JSON file (beacon.config.example.json,
 * prod.example.json) that drives `npm start` and each deployable alone the
 * same way. Its shared sections are declared here once (dataDir, host,
 * logLevel, http, bus, store, catalog, tables, projects, demoProject,
 * control); each deployable declares its own section (`edge`, `loader`,
 * `insights`) and passes it to `pipelineConfigSchema`, because shared/ never
 * imports a deployable (docs/architecture.md, "The dependency rule").
 *
 * Sources, later wins: defaults ← the file ← environment ← command-line
 * flags, merged by `mergeConfigLayers` and validated once; unknown keys are
 * errors at every level, and a ConfigError names every bad field.
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  type BusConfig,
  type CatalogConfig,
  dirStoreConfigSchema,
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema,
  hiveSettingsFromEnv,
  kafkaBrokersFromEnv,
  kafkaBusConfigSchema,
  localBusConfigSchema,
  mergeConfigLayers,
  type StoreConfig,
  s3SettingsFromEnv,
  s3StoreConfigSchema,
} from '../adapters-config.ts';
import { httpServerSettingsSchema } from '../node-server.ts';
import { tablesSchema } from '../warehouse.ts';
import { parseConfig } from './config-error.ts';
import { type Json, readConfigFile } from './config-file.ts';
import { projectsSectionSchema } from './projects.ts';

/** Every server's port. Below 32768: Linux hands out outgoing ports from there up. */
export const portSchema = z.number().int().min(1).max(32767);
export const DEFAULT_PORTS = { edge: 8080, insights: 8083, control: 8084 } as const;

const topic = { topic: z.string().min(1).default('events') };

/** The shared sections, as the file writes them (the bus names its topic; directories follow dataDir). */
const sharedSections = {
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
  tables: tablesSchema,
  projects: projectsSectionSchema,
  /**
   * Adds the project whose keys the first run generates in <dataDir>/keys.json.
   * It allows the loopback origins of the edge and the dashboard; `{"allowedOrigins": [...]}`
   * adds more (the site you try the tracker on), `"*"` among them allowing any.
   */
  demoProject: z
    .union([z.boolean(), z.strictObject({ allowedOrigins: z.array(z.string().min(1)) })])
    .default(true),
  control: z.strictObject({ port: portSchema.default(DEFAULT_PORTS.control) }).prefault({}),
};

/**
 * Another deployable's section, seen by one that runs alone: an object whose
 * contents its owner validates (`npm start` validates all three), of which
 * only the port is read here (the demo project's origins name both ports).
 */
export const otherDeployableSection = z
  .looseObject({ port: portSchema.optional() })
  .prefault({})
  .describe("another deployable's section: its owner checks it");

/** The file's schema, with each deployable's section as that deployable (or the composition) declares it. */
export function pipelineConfigSchema<
  E extends z.ZodType,
  L extends z.ZodType,
  I extends z.ZodType,
>(sections: { edge: E; loader: L; insights: I }) {
  return z.strictObject({ ...sharedSections, ...sections });
}

type DeployableName = 'edge' | 'loader' | 'insights';

/**
 * The file's schema as one deployable started alone reads it: its own section
 * strictly, the other two as `otherDeployableSection` (their owners check them).
 */
export function deployablePipelineSchema<K extends DeployableName, S extends z.ZodType>(own: K, section: S) {
  const sections = {
    edge: otherDeployableSection,
    loader: otherDeployableSection,
    insights: otherDeployableSection,
    [own]: section,
  };
  // The computed key loses its type in TypeScript; the shape is exactly this.
  type Shape = typeof sharedSections &
    Record<Exclude<DeployableName, K>, typeof otherDeployableSection> &
    Record<K, S>;
  return z.strictObject({ ...sharedSections, ...sections }) as unknown as z.ZodObject<Shape, z.core.$strict>;
}

const sharedSchema = z.object(sharedSections);
/** The shared sections after parsing: what every deployable reads. */
export type PipelineShared = z.output<typeof sharedSchema>;

/**
 * Whether a file is the pipeline file rather than a deployable's own format:
 * it has a key that the pipeline file has and the deployable's format does
 * not (`dataDir`, `edge`, `loader` …). A file both could read (`{"bus": …}`
 * for the loader) stays the deployable's own, as it always was.
 */
export function isPipelineFile(file: Json, ownKeys: readonly string[]): boolean {
  const pipelineKeys = new Set([...Object.keys(sharedSections), 'edge', 'loader', 'insights']);
  return Object.keys(file).some((key) => pipelineKeys.has(key) && !ownKeys.includes(key));
}

/** The command-line flags `npm start` takes; a deployable alone passes what it has. */
export interface PipelineFlags {
  dataDir?: string | undefined;
  host?: string | undefined;
  logLevel?: string | undefined;
  edgePort?: number | undefined;
  insightsPort?: number | undefined;
  controlPort?: number | undefined;
  loaderCron?: string | undefined;
}

/**
 * Environment variables (README, "Configuration"): BEACON_* for the pipeline,
 * and the stack's own names (KAFKA_BROKERS, S3_*, HIVE_*, as in stack.env) to
 * fill an adapter's settings. BEACON_BUS/STORE/CATALOG switch the adapter; the
 * others apply to the adapter the file (or the switch) chose.
 */
function pipelineEnvironment(env: NodeJS.ProcessEnv, file: Json): Json {
  const numberOf = (v: string | undefined) => (v ? Number(v) : undefined);
  const out: Json = {
    dataDir: env.BEACON_DATA_DIR || undefined,
    host: env.BEACON_HOST || undefined,
    logLevel: env.LOG_LEVEL || undefined,
    edge: { port: numberOf(env.BEACON_EDGE_PORT) },
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

function flagsLayer(flags: PipelineFlags): Json {
  return {
    dataDir: flags.dataDir,
    host: flags.host,
    logLevel: flags.logLevel,
    edge: { port: flags.edgePort },
    insights: { port: flags.insightsPort },
    control: { port: flags.controlPort },
    loader: { cron: flags.loaderCron },
  };
}

export interface PipelineSource {
  /** The file's path, for messages; undefined: defaults, environment and flags only. */
  path?: string | undefined;
  /** The file's object when the caller has read it already. */
  file?: Json;
  env: NodeJS.ProcessEnv;
  flags?: PipelineFlags;
}

/** Defaults ← file ← environment ← flags, validated once with `schema`; a ConfigError names every bad field. */
export function loadPipelineConfig<S extends z.ZodType>(schema: S, source: PipelineSource): z.output<S> {
  const file = source.file ?? (source.path ? readConfigFile(source.path) : {});
  const merged = mergeConfigLayers(
    mergeConfigLayers(file, pipelineEnvironment(source.env, file)),
    flagsLayer(source.flags ?? {}),
  );
  const where = source.path ? ` (${source.path}, overridden by environment and flags)` : '';
  return parseConfig(schema, merged, `Invalid configuration${where}`);
}

// ---------------------------------------------------------------- what each adapter gets

/** The bus config with its directory resolved: the local log lives in <dataDir>/bus. */
export function busOf(config: Pick<PipelineShared, 'bus' | 'dataDir'>): BusConfig {
  const { bus } = config;
  if (bus.kind === 'local')
    return { kind: 'local', fsync: bus.fsync, dir: join(resolve(config.dataDir), 'bus') };
  const { topic: _topic, partitions: _partitions, ...kafka } = bus;
  return kafka;
}

/** The store config with the directory resolved: <dataDir>/warehouse unless the file names one. */
export function storeOf(config: Pick<PipelineShared, 'store' | 'dataDir'>): StoreConfig {
  const { store } = config;
  return store.kind === 's3'
    ? store
    : { kind: 'dir', root: resolve(store.root ?? join(resolve(config.dataDir), 'warehouse')) };
}

/** The catalog config; DuckDB's scratch space is under <dataDir>/tmp, which a start clears. */
export function catalogOf(config: Pick<PipelineShared, 'catalog' | 'dataDir'>): CatalogConfig {
  return config.catalog.kind === 'hive'
    ? config.catalog
    : { ...config.catalog, workDir: join(resolve(config.dataDir), 'tmp', 'duckdb') };
}

/**
 * The browser origins the demo project allows: pages of the edge (`/t.js`)
 * and of the dashboard, as a browser on this machine names them (127.0.0.1 and
 * localhost, and the configured host when it is another address), plus what
 * the file adds. CORS is by explicit grant only (edge/README.md, "CORS").
 */
export function demoOrigins(
  config: Pick<PipelineShared, 'host' | 'demoProject'>,
  ports: { edge: number; insights: number },
): string[] {
  const hosts = new Set(['127.0.0.1', 'localhost']);
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  if (!wildcard) hosts.add(config.host.includes(':') ? `[${config.host}]` : config.host);
  const origins = [ports.edge, ports.insights].flatMap((port) =>
    [...hosts].map((host) => `http://${host}:${port}`),
  );
  const extra = typeof config.demoProject === 'object' ? config.demoProject.allowedOrigins : [];
  return [...new Set([...origins, ...extra])];
}
