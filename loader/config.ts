/**
 * @module The loader's configuration: one zod schema, parsed once at start-up
 * (bad configuration fails before anything runs). Sources, later wins: the
 * defaults below, a JSON file (`--config` or LOADER_CONFIG), then
 * environment variables (see `configFromEnv`). Each port picks its adapter:
 * embedded (local log, directory, DuckDB) or production (Kafka, S3, Hive).
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../shared/errors.ts';
import type { LoaderSettings } from './loader-deps.ts';

const busSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('local'),
    dir: z.string().min(1),
    fsync: z.enum(['always', 'interval', 'never']).optional(),
  }),
  z.object({
    kind: z.literal('kafka'),
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().default('beacon-loader'),
  }),
]);

const storeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dir'), root: z.string().min(1) }),
  z.object({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    endpoint: z.string().optional(),
    region: z.string().default('us-east-1'),
    forcePathStyle: z.boolean().default(false),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
  }),
]);

const catalogSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('duckdb'), workDir: z.string().optional() }),
  z.object({
    kind: z.literal('hive'),
    host: z.string().min(1),
    port: z.number().int().positive(),
    auth: z.enum(['NOSASL', 'NONE']).default('NOSASL'),
    database: z.string().default('default'),
  }),
]);

export const loaderConfigSchema = z.object({
  topic: z.string().min(1).default('events'),
  group: z.string().min(1).default('beacon-loader'),
  /** Root of the warehouse inside the store, e.g. 'warehouse/' ('' for the store's root). */
  warehousePrefix: z.string().default(''),
  tables: z
    .object({
      events: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .default('events'),
      eventsHourly: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .default('events_hourly'),
      visitorsHourly: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .default('visitors_hourly'),
    })
    .default({ events: 'events', eventsHourly: 'events_hourly', visitorsHourly: 'visitors_hourly' }),
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
    .object({ memoryLimit: z.string().default('1GB'), threads: z.number().int().positive().default(2) })
    .default({ memoryLimit: '1GB', threads: 2 }),
  tempDir: z.string().default(join(tmpdir(), 'beacon-loader')),
  /** A live loader renews its lock every third of this; a crashed one on another host blocks others this long. */
  lockTtlMinutes: z.number().positive().default(5),
  replayLateHours: z.number().int().min(0).default(2),
  uploadConcurrency: z.number().int().positive().default(4),
  readConcurrency: z.number().int().positive().default(4),
  convertConcurrency: z.number().int().positive().default(2),
  schedule: z
    .object({
      /** Minute 5 of every hour: the hour before has closed and most late edges have flushed. */
      cron: z.string().default('5 * * * *'),
      jitterSeconds: z.number().int().min(0).default(60),
    })
    .default({ cron: '5 * * * *', jitterSeconds: 60 }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  bus: busSchema.default({ kind: 'local', dir: './data/bus' }),
  store: storeSchema.default({ kind: 'dir', root: './data/warehouse' }),
  catalog: catalogSchema.default({ kind: 'duckdb' }),
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
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Objects merge key by key; anything else is replaced. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Json, v) : v;
  }
  return out;
}

/**
 * Environment overrides. LOADER_BUS=local|kafka with LOADER_BUS_DIR or
 * KAFKA_BROKERS (comma-separated); LOADER_STORE=dir|s3 with LOADER_STORE_DIR
 * or S3_BUCKET, S3_PREFIX, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY,
 * S3_SECRET_KEY; LOADER_CATALOG=duckdb|hive with HIVE_HOST, HIVE_PORT,
 * HIVE_AUTH; LOADER_TOPIC, LOADER_GROUP, LOADER_PREFIX, LOADER_CRON,
 * LOADER_TEMP_DIR, LOG_LEVEL.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') out[key] = value;
  };
  set('topic', env.LOADER_TOPIC);
  set('group', env.LOADER_GROUP);
  set('warehousePrefix', env.LOADER_PREFIX);
  set('tempDir', env.LOADER_TEMP_DIR);
  set('logLevel', env.LOG_LEVEL);
  if (env.LOADER_CRON) out.schedule = { cron: env.LOADER_CRON };
  if (env.LOADER_BUS === 'local') out.bus = { kind: 'local', dir: env.LOADER_BUS_DIR ?? './data/bus' };
  if (env.LOADER_BUS === 'kafka')
    out.bus = { kind: 'kafka', brokers: (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean) };
  if (env.LOADER_STORE === 'dir')
    out.store = { kind: 'dir', root: env.LOADER_STORE_DIR ?? './data/warehouse' };
  if (env.LOADER_STORE === 's3') {
    out.store = {
      kind: 's3',
      bucket: env.S3_BUCKET,
      prefix: env.S3_PREFIX,
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      forcePathStyle: env.S3_ENDPOINT ? true : undefined,
      accessKeyId: env.S3_ACCESS_KEY,
      secretAccessKey: env.S3_SECRET_KEY,
    };
  }
  if (env.LOADER_CATALOG === 'duckdb') out.catalog = { kind: 'duckdb' };
  if (env.LOADER_CATALOG === 'hive') {
    out.catalog = {
      kind: 'hive',
      host: env.HIVE_HOST,
      port: env.HIVE_PORT ? Number(env.HIVE_PORT) : undefined,
      auth: env.HIVE_AUTH,
    };
  }
  return out;
}

/** Defaults ← file ← environment, validated; throws an InputError that names every bad field. */
export async function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: LoaderConfigInput } = {},
): Promise<LoaderConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.LOADER_CONFIG;
  let fromFile: Json = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read the config file ${file}: ${(err as Error).message}`, {
        status: 400,
        code: 'bad_config',
      });
    }
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed))
      throw new InputError(`${file} must hold a JSON object`, { status: 400, code: 'bad_config' });
    // A shared config file may hold every service's settings: ours sit under "loader" when present.
    fromFile = isObject(parsed.loader) ? parsed.loader : parsed;
  }
  const merged = merge(merge(fromFile, configFromEnv(env)), (options.overrides ?? {}) as Json);
  const result = loaderConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InputError(`invalid loader configuration: ${problems}`, { status: 400, code: 'bad_config' });
  }
  return result.data;
}
