/**
 * @module The loader's configuration: one zod schema, parsed once at start-up
 * (bad configuration fails before anything runs). Sources, later wins: the
 * defaults below, a JSON file (`--config` or LOADER_CONFIG), then
 * environment variables (see `configFromEnv`). Each port picks its adapter:
 * embedded (local log, directory, DuckDB) or production (Kafka, S3, Hive).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import {
  dirStoreConfigSchema,
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema,
  hiveSettingsFromEnv,
  kafkaBrokersFromEnv,
  kafkaBusConfigSchema,
  localBusConfigSchema,
  mergeConfigLayers,
  s3SettingsFromEnv,
  s3StoreConfigSchema,
} from '../shared/adapters-config.ts';
import { parseConfig } from '../shared/config/config-error.ts';
import { type Json, readConfigFile } from '../shared/config/config-file.ts';
import { tablesSchema } from '../shared/warehouse.ts';
import { DEFAULT_COMPACTION, type LoaderSettings } from './loader-deps.ts';

/**
 * Compaction (compaction/compact.ts), the same in the loader's own file and in
 * the pipeline file's `loader` section. Defaults: a closed hour (loaded 10
 * minutes past its end) becomes files of at most 1M rows or ~128 MB.
 */
const compactionConfigSchema = z
  .strictObject({
    /** false: no pass after each load; `loader compact` still runs by hand. */
    enabled: z.boolean().default(DEFAULT_COMPACTION.enabled),
    graceMinutes: z
      .number()
      .min(0)
      .max(24 * 60)
      .default(DEFAULT_COMPACTION.graceMinutes),
    maxRowsPerFile: z.number().int().positive().default(DEFAULT_COMPACTION.maxRowsPerFile),
    maxFileMB: z
      .number()
      .positive()
      .default(DEFAULT_COMPACTION.maxFileBytes / 1024 / 1024),
    maxHoursPerPass: z.number().int().positive().default(DEFAULT_COMPACTION.maxHoursPerPass),
  })
  .prefault({});

// Adapter settings mean what they mean everywhere (shared/adapters-config.ts); the loader's own defaults differ.
// Strict: a pipeline file goes through pipeline-config.ts, so any key unknown here is a mistake.
const busSchema = z.discriminatedUnion('kind', [
  localBusConfigSchema,
  kafkaBusConfigSchema.extend({ clientId: z.string().min(1).default('beacon-loader') }),
]);
const storeSchema = z.discriminatedUnion('kind', [dirStoreConfigSchema, s3StoreConfigSchema]);
const catalogSchema = z.discriminatedUnion('kind', [
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema.extend({ database: z.string().default('default') }),
]);

/**
 * Scale-out (loader/README.md, "Scale-out"): several loader processes share
 * the topic(s) as one Kafka consumer group, each loading the partitions the
 * group assigns it. The same in the loader's own file and the pipeline file's
 * `loader` section.
 */
const scaleOutConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Load every topic whose whole name matches (central cluster: `.*\.events`) instead of `topic`. */
    topicPattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'a JavaScript regular expression')
      .optional(),
    /** A member silent this long leaves the group, and its partitions move to the others. */
    sessionTimeoutMs: z.number().int().min(6000).default(10_000),
    /** How long a load waits for another process's rollups of an hour before leaving them to its next load. */
    rollupLockWaitSeconds: z.number().positive().default(120),
  })
  .prefault({});

export const loaderConfigSchema = z
  .strictObject({
    topic: z.string().min(1).default('events'),
    group: z.string().min(1).default('beacon-loader'),
    /** Root of the warehouse inside the store, e.g. 'warehouse/' ('' for the store's root). */
    warehousePrefix: z.string().default(''),
    tables: tablesSchema,
    /** ~95 MB of Parquet per million events: big enough to avoid small files, small enough to rewrite. */
    maxRowsPerFile: z.number().int().positive().default(1_000_000),
    rowGroupSize: z.number().int().positive().default(100_000),
    sortEvents: z.boolean().default(true),
    dedupHorizonHours: z
      .number()
      .int()
      .min(0)
      .max(24 * 14)
      .default(24),
    duckdb: z
      .strictObject({
        memoryLimit: z.string().default('1GB'),
        threads: z.number().int().positive().default(2),
      })
      .default({ memoryLimit: '1GB', threads: 2 }),
    tempDir: z.string().default(join(tmpdir(), 'beacon-loader')),
    /** A live loader renews its lock every third of this; a crashed one on another host blocks others this long. */
    lockTtlMinutes: z.number().positive().default(5),
    replayLateHours: z.number().int().min(0).default(2),
    uploadConcurrency: z.number().int().positive().default(4),
    readConcurrency: z.number().int().positive().default(4),
    convertConcurrency: z.number().int().positive().default(2),
    /** Parse workers beside the loader's thread (loader/README.md, "Benchmark"); 0: none. */
    parseThreads: z.number().int().min(0).max(16).default(1),
    /** Every consumed message kept raw, compressed, per hour (archive/): off for operators who back up the topic elsewhere. */
    archive: z.boolean().default(true),
    compaction: compactionConfigSchema,
    scaleOut: scaleOutConfigSchema,
    schedule: z
      .strictObject({
        /** Minute 5 of every hour: the hour before has closed and most late edges have flushed. */
        cron: z.string().default('5 * * * *'),
        jitterSeconds: z.number().int().min(0).default(60),
      })
      .default({ cron: '5 * * * *', jitterSeconds: 60 }),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    bus: busSchema.default({ kind: 'local', dir: './data/bus', fsync: 'always' }),
    store: storeSchema.default({ kind: 'dir', root: './data/warehouse' }),
    catalog: catalogSchema.default({ kind: 'duckdb' }),
  })
  .refine((c) => !c.scaleOut.enabled || c.bus.kind === 'kafka', {
    path: ['scaleOut', 'enabled'],
    message: 'scale-out needs the Kafka bus: a local log has one reader, the one-machine process',
  })
  .refine((c) => c.scaleOut.topicPattern === undefined || c.scaleOut.enabled, {
    path: ['scaleOut', 'topicPattern'],
    message: 'a topic pattern needs scaleOut.enabled',
  });

export type LoaderConfig = z.output<typeof loaderConfigSchema>;
export type LoaderConfigInput = z.input<typeof loaderConfigSchema>;

export function settingsOf(config: LoaderConfig): LoaderSettings {
  return {
    topic: config.topic,
    group: config.group,
    warehousePrefix: config.warehousePrefix,
    tables: config.tables,
    maxRowsPerFile: config.maxRowsPerFile,
    rowGroupSize: config.rowGroupSize,
    sortEvents: config.sortEvents,
    dedupHorizonHours: config.dedupHorizonHours,
    duckdbMemoryLimit: config.duckdb.memoryLimit,
    duckdbThreads: config.duckdb.threads,
    tempDir: config.tempDir,
    lockTtlMs: config.lockTtlMinutes * 60_000,
    replayLateHours: config.replayLateHours,
    uploadConcurrency: config.uploadConcurrency,
    readConcurrency: config.readConcurrency,
    convertConcurrency: config.convertConcurrency,
    parseThreads: config.parseThreads,
    archive: config.archive,
    rollupLockWaitMs: config.scaleOut.rollupLockWaitSeconds * 1000,
    compaction: {
      enabled: config.compaction.enabled,
      graceMinutes: config.compaction.graceMinutes,
      maxRowsPerFile: config.compaction.maxRowsPerFile,
      maxFileBytes: Math.round(config.compaction.maxFileMB * 1024 * 1024),
      maxHoursPerPass: config.compaction.maxHoursPerPass,
    },
  };
}

/**
 * Environment overrides. LOADER_BUS=local|kafka with LOADER_BUS_DIR or
 * KAFKA_BROKERS (comma-separated); LOADER_STORE=dir|s3 with LOADER_STORE_DIR
 * or S3_BUCKET, S3_PREFIX, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY,
 * S3_SECRET_KEY; LOADER_CATALOG=duckdb|hive with HIVE_HOST, HIVE_PORT,
 * HIVE_AUTH; LOADER_TOPIC, LOADER_GROUP, LOADER_PREFIX, LOADER_CRON,
 * LOADER_TEMP_DIR, LOG_LEVEL; LOADER_SCALE_OUT=1 and LOADER_TOPIC_PATTERN.
 */
function configFromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') out[key] = value;
  };
  set('topic', env.LOADER_TOPIC);
  set('group', env.LOADER_GROUP);
  set('warehousePrefix', env.LOADER_PREFIX);
  set('tempDir', env.LOADER_TEMP_DIR);
  set('logLevel', env.LOG_LEVEL);
  if (env.LOADER_SCALE_OUT || env.LOADER_TOPIC_PATTERN)
    out.scaleOut = {
      ...(env.LOADER_SCALE_OUT ? { enabled: ['1', 'true', 'yes'].includes(env.LOADER_SCALE_OUT) } : {}),
      ...(env.LOADER_TOPIC_PATTERN ? { topicPattern: env.LOADER_TOPIC_PATTERN } : {}),
    };
  if (env.LOADER_CRON) out.schedule = { cron: env.LOADER_CRON };
  if (env.LOADER_BUS === 'local') out.bus = { kind: 'local', dir: env.LOADER_BUS_DIR ?? './data/bus' };
  if (env.LOADER_BUS === 'kafka') out.bus = { kind: 'kafka', brokers: kafkaBrokersFromEnv(env) ?? [] };
  if (env.LOADER_STORE === 'dir')
    out.store = { kind: 'dir', root: env.LOADER_STORE_DIR ?? './data/warehouse' };
  if (env.LOADER_STORE === 's3') out.store = { kind: 's3', ...s3SettingsFromEnv(env) };
  if (env.LOADER_CATALOG === 'duckdb') out.catalog = { kind: 'duckdb' };
  if (env.LOADER_CATALOG === 'hive') out.catalog = { kind: 'hive', ...hiveSettingsFromEnv(env) };
  return out;
}

/** Defaults ← file ← environment, validated; throws a ConfigError (an InputError) that names every bad field. */
export async function loadConfig(
  options: { file?: string; fromFile?: Json; env?: NodeJS.ProcessEnv; overrides?: LoaderConfigInput } = {},
): Promise<LoaderConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.LOADER_CONFIG;
  const fromFile: Json = options.fromFile ?? (file ? readConfigFile(file) : {});
  const merged = mergeConfigLayers(
    mergeConfigLayers(fromFile, configFromEnv(env)),
    (options.overrides ?? {}) as Json,
  );
  return parseConfig(loaderConfigSchema, merged, 'Invalid loader configuration');
}

function validCron(expr: string): boolean {
  try {
    new Cron(expr, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

/**
 * The loader's section of a combined config file (the one-machine `start.ts`):
 * the few settings a person tunes there; topic, tables and adapters come from
 * the file's shared sections. Cron "off": loads run only when asked.
 */
export const loaderSectionSchema = z
  .strictObject({
    /** When loads run (UTC). "off": only when asked (POST /v1/loader/run on the control port). */
    cron: z
      .string()
      .refine(
        (expr) => expr === 'off' || validCron(expr),
        'a cron expression such as "*/5 * * * *", or "off"',
      )
      .default('* * * * *'),
    jitterSeconds: z.number().int().min(0).default(0),
    group: z.string().min(1).default('beacon-loader'),
    dedupHorizonHours: z.number().int().min(0).optional(),
    lockTtlMinutes: z.number().positive().optional(),
    maxRowsPerFile: z.number().int().positive().optional(),
    duckdb: z.strictObject({ memoryLimit: z.string(), threads: z.number().int().positive() }).optional(),
    compaction: compactionConfigSchema.optional(),
    scaleOut: scaleOutConfigSchema.optional(),
    /** false: no raw archive of consumed messages (the topic is backed up elsewhere). */
    archive: z.boolean().optional(),
  })
  .prefault({});

export type LoaderSection = z.output<typeof loaderSectionSchema>;

/** A full loader config from its section and the pipeline file's shared settings; a ConfigError names every bad field. */
export function loaderConfigOfSection(
  section: LoaderSection,
  shared: Pick<LoaderConfigInput, 'topic' | 'tables' | 'tempDir' | 'logLevel' | 'bus' | 'store' | 'catalog'>,
): LoaderConfig {
  const { cron, jitterSeconds, ...rest } = section;
  return parseConfig(
    loaderConfigSchema,
    {
      ...shared,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      // A schedule that never comes due when "off": `startLoader(config, { schedule: false })` runs none at all.
      schedule: { cron: cron === 'off' ? '0 0 1 1 *' : cron, jitterSeconds },
    },
    'Invalid loader settings',
  );
}
