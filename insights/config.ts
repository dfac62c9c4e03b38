/**
 * @module The insights service's configuration, validated once at start-up
 * (a bad file fails fast, naming the field). Engine: embedded DuckDB over the
 * warehouse in a directory or S3-compatible store, or HiveServer2.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TABLES } from '../shared/warehouse.ts';
import { PROJECT_ID_PATTERN } from './params.ts';
import { DEFAULT_CACHE_OPTIONS } from './result-cache.ts';

const tableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$/, 'a table name');

const storeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dir'), root: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    endpoint: z.url().optional(),
    region: z.string().default('us-east-1'),
    forcePathStyle: z.boolean().default(false),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
  }),
]);

const engineSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('duckdb'),
    /** Where the warehouse and the embedded catalog's metadata live. */
    store: storeSchema,
    metadataKey: z.string().optional(),
    workDir: z.string().optional(),
    threads: z.number().int().positive().optional(),
    memoryLimit: z.string().optional(),
    connections: z.number().int().positive().default(4),
  }),
  z.strictObject({
    kind: z.literal('hive'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    auth: z.enum(['NOSASL', 'NONE']).default('NONE'),
    username: z.string().optional(),
    password: z.string().optional(),
    database: z.string().optional(),
    poolSize: z.number().int().positive().default(4),
  }),
]);

export const insightsConfigSchema = z.strictObject({
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      // Below 32768: Linux hands out outgoing ports above it.
      port: z.number().int().min(0).max(32767).default(8083),
    })
    .prefault({}),
  projects: z
    .array(
      z.strictObject({
        id: z.string().regex(PROJECT_ID_PATTERN),
        name: z.string().max(200).optional(),
        readKeys: z
          .array(z.string().regex(/^[\x21-\x7e]{16,256}$/, '16 to 256 printable ASCII characters'))
          .min(1),
      }),
    )
    .min(1),
  engine: engineSchema,
  tables: z
    .strictObject({
      events: tableName.default(TABLES.events.name),
      eventsHourly: tableName.default(TABLES.events_hourly.name),
      visitorsHourly: tableName.default(TABLES.visitors_hourly.name),
    })
    .prefault({}),
  rollups: z.boolean().default(true),
  queryTimeoutMs: z.number().int().positive().default(30_000),
  cache: z
    .strictObject({
      maxBytes: z.number().int().positive().default(DEFAULT_CACHE_OPTIONS.maxBytes),
      closedTtlMs: z.number().int().nonnegative().default(DEFAULT_CACHE_OPTIONS.closedTtlMs),
      openTtlMs: z.number().int().nonnegative().default(DEFAULT_CACHE_OPTIONS.openTtlMs),
      closedAfterMs: z.number().int().nonnegative().default(DEFAULT_CACHE_OPTIONS.closedAfterMs),
    })
    .prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type InsightsConfigInput = z.input<typeof insightsConfigSchema>;
export type InsightsConfig = z.output<typeof insightsConfigSchema>;

export function parseInsightsConfig(input: unknown): InsightsConfig {
  const result = insightsConfigSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid insights config:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export async function readInsightsConfig(path: string): Promise<InsightsConfig> {
  return parseInsightsConfig(JSON.parse(await readFile(path, 'utf8')));
}
