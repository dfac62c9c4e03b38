/**
 * @module The configuration of each port's adapters, one zod schema per
 * adapter (docs/architecture.md, "Ports and adapters"): bus local|kafka, store dir|s3, catalog
 * duckdb|hive. Every deployable and the one-machine composition build their
 * config from these, extending or narrowing a field where their file format
 * differs (a default client id, a directory derived from the data dir), so an
 * adapter setting means the same thing everywhere. `adapters.ts` turns the
 * parsed values into ports.
 */
import { z } from 'zod';
import type { Json } from './config/config-file.ts';

export const localBusConfigSchema = z.strictObject({
  kind: z.literal('local'),
  dir: z.string().min(1),
  fsync: z.enum(['always', 'interval', 'never']).default('always'),
});

/** Kafka bootstrap servers, `host:port`: the one declaration every Kafka setting uses (bus, edge). */
export const kafkaBrokersSchema = z.array(z.string().min(1)).min(1, 'list at least one Kafka broker');

/** The settings both Kafka adapters (kafkajs, @platformatic/kafka) take, with the same meaning and defaults. */
export const kafkaClientFields = {
  brokers: kafkaBrokersSchema,
  clientId: z.string().min(1).default('beacon-to-hive'),
  connectionTimeoutMs: z.number().int().positive().default(3000),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /** Retries of one request before it fails (each adapter says how far apart). */
  retries: z.number().int().min(0).default(5),
  /** Uncompressed bytes of one produce request; keep under the broker's message.max.bytes (1 MiB). */
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .default(768 * 1024),
  /** Bytes fetched per request when reading; bounds a read's memory. */
  readMaxBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Prefix of the throwaway, never-joined consumer groups that reads use. */
  readGroupPrefix: z.string().min(1).default('b2h'),
  /** Replication factor of topics ensureTopic creates; -1 takes the broker's default. */
  replicationFactor: z.number().int().default(-1),
};

export const kafkaBusConfigSchema = z.strictObject({
  kind: z.literal('kafka'),
  brokers: kafkaBrokersSchema,
  clientId: z.string().min(1).default('beacon-to-hive'),
  /**
   * Kafka client library, kafkajs when absent; both pass the same bus contract
   * (shared/bus/README.md, "Measurements"). Optional rather than defaulted so
   * configs that never name it parse to what they did before.
   */
  client: z.enum(['kafkajs', 'platformatic']).optional(),
  /**
   * Compression of produced record batches; absent, each producer's default (the edge's lz4, gzip
   * otherwise). Every reader in the pipeline decodes all three.
   */
  compression: z.enum(['lz4', 'gzip', 'none']).optional(),
});

export const dirStoreConfigSchema = z.strictObject({ kind: z.literal('dir'), root: z.string().min(1) });

export const s3StoreConfigSchema = z.strictObject({
  kind: z.literal('s3'),
  bucket: z.string().min(1),
  prefix: z.string().default(''),
  endpoint: z.url().optional(),
  region: z.string().default('us-east-1'),
  forcePathStyle: z.boolean().default(false),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
});

export const duckdbCatalogConfigSchema = z.strictObject({
  kind: z.literal('duckdb'),
  /** Parent of the catalog's scratch directory; the caller's default when absent. */
  workDir: z.string().optional(),
  threads: z.number().int().positive().optional(),
  memoryLimit: z.string().optional(),
  metadataKey: z.string().optional(),
  connections: z.number().int().positive().optional(),
  /** The database file of the tables it keeps materialized (the rollups insights reads), kept across restarts; the caller's default when absent. */
  databaseFile: z.string().optional(),
});

export const hiveCatalogConfigSchema = z.strictObject({
  kind: z.literal('hive'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  auth: z.enum(['NOSASL', 'NONE']).default('NOSASL'),
  database: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  poolSize: z.number().int().positive().default(4),
});

const busConfigSchema = z.discriminatedUnion('kind', [localBusConfigSchema, kafkaBusConfigSchema]);
export const storeConfigSchema = z.discriminatedUnion('kind', [dirStoreConfigSchema, s3StoreConfigSchema]);
const catalogConfigSchema = z.discriminatedUnion('kind', [
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema,
]);

export type BusConfig = z.output<typeof busConfigSchema>;
export type StoreConfig = z.output<typeof storeConfigSchema>;
export type CatalogConfig = z.output<typeof catalogConfigSchema>;

// ---------------------------------------------------------------- layering

export const isJsonObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One configuration layer over another (defaults ← file ← environment ←
 * flags): objects merge key by key, anything else (arrays included) is
 * replaced, undefined leaves the lower layer's value.
 */
export function mergeConfigLayers(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const under = out[k];
    // An adapter section whose kind changes is replaced whole: the old kind's keys mean nothing to the new one.
    const switched = isJsonObject(v) && isJsonObject(under) && 'kind' in v && v.kind !== under.kind;
    out[k] = isJsonObject(v) && isJsonObject(under) && !switched ? mergeConfigLayers(under, v) : v;
  }
  return out;
}

// ---------------------------------------------------------------- the stack's environment variables

/** KAFKA_BROKERS, comma-separated (as in stack.env); undefined when unset. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  if (!env.KAFKA_BROKERS) return undefined;
  return env.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** S3_BUCKET, S3_PREFIX, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY, S3_ENDPOINT: the s3 store settings set there. */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  if (env.S3_BUCKET) out.bucket = env.S3_BUCKET;
  if (env.S3_PREFIX) out.prefix = env.S3_PREFIX;
  if (env.S3_REGION) out.region = env.S3_REGION;
  if (env.S3_ACCESS_KEY) out.accessKeyId = env.S3_ACCESS_KEY;
  if (env.S3_SECRET_KEY) out.secretAccessKey = env.S3_SECRET_KEY;
  // An explicit endpoint is an S3-compatible server, which wants path-style URLs.
  if (env.S3_ENDPOINT) Object.assign(out, { endpoint: env.S3_ENDPOINT, forcePathStyle: true });
  return out;
}

/** HIVE_HOST, HIVE_PORT, HIVE_AUTH: the hive catalog settings set there. */
export function hiveSettingsFromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  if (env.HIVE_HOST) out.host = env.HIVE_HOST;
  if (env.HIVE_PORT) out.port = Number(env.HIVE_PORT);
  if (env.HIVE_AUTH) out.auth = env.HIVE_AUTH;
  return out;
}
