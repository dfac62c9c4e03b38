/**
 * @module The insights service's configuration, validated once at start-up
 * (a bad file fails fast, naming the field). Engine: embedded DuckDB over the
 * warehouse in a directory or S3-compatible store, or HiveServer2.
 */
import { z } from 'zod';
import {
  duckdbCatalogConfigSchema,
  hiveCatalogConfigSchema,
  storeConfigSchema,
} from '../shared/adapters-config.ts';
import { ConfigError, parseConfig } from '../shared/config/config-error.ts';
import { DEFAULT_PORTS, portSchema } from '../shared/config/pipeline-config.ts';
import { httpServerSettingsSchema } from '../shared/node-server.ts';
import { tablesSchema } from '../shared/warehouse.ts';
import { PROJECT_ID_PATTERN } from './params.ts';
import { DEFAULT_CACHE_OPTIONS } from './result-cache.ts';

// Adapter settings mean what they mean everywhere (shared/adapters-config.ts); insights' own defaults differ.
const engineSchema = z.discriminatedUnion('kind', [
  duckdbCatalogConfigSchema.extend({
    /** Where the warehouse and the embedded catalog's metadata live. */
    store: storeConfigSchema,
    connections: z.number().int().positive().default(4),
  }),
  hiveCatalogConfigSchema.extend({ auth: z.enum(['NOSASL', 'NONE']).default('NONE') }),
]);

export const insightsConfigSchema = z.strictObject({
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      // Below 32768: Linux hands out outgoing ports above it.
      port: z.number().int().min(0).max(32767).default(8083),
      // Deadlines for slow clients and header limits (shared/node-server.ts).
      ...httpServerSettingsSchema.shape,
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
  tables: tablesSchema,
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
  return parseConfig(insightsConfigSchema, input, 'Invalid insights configuration');
}

/**
 * Insights' section of a combined config file (the one-machine `start.ts`):
 * what a person tunes there; host, projects, engine and tables come from the
 * file's shared sections.
 */
export const insightsSectionSchema = z
  .strictObject({
    port: portSchema.default(DEFAULT_PORTS.insights),
    rollups: z.boolean().default(true),
    queryTimeoutMs: z.number().int().positive().default(30_000),
    cache: z.record(z.string(), z.unknown()).optional(),
  })
  .prefault({});

export type InsightsSection = z.output<typeof insightsSectionSchema>;

/** A full insights config from its section and the pipeline file's shared settings; a ConfigError names every bad field. */
export function insightsConfigOfSection(
  section: InsightsSection,
  shared: {
    host: string;
    projects: { id: string; name?: string | undefined; readKeys: string[] }[];
    engine: InsightsConfigInput['engine'];
    tables: InsightsConfigInput['tables'];
    logLevel: InsightsConfigInput['logLevel'];
    /** The file's `http` section: every server's deadlines and header limits. */
    http?: Record<string, unknown>;
  },
): InsightsConfig {
  const projects = shared.projects
    .filter((p) => p.readKeys.length > 0)
    .map((p) => ({ id: p.id, ...(p.name ? { name: p.name } : {}), readKeys: p.readKeys }));
  if (projects.length === 0) throw new ConfigError('No project has a read key: insights would answer nobody');
  return parseConfig(
    insightsConfigSchema,
    {
      http: { ...shared.http, host: shared.host, port: section.port },
      projects,
      engine: shared.engine,
      tables: shared.tables,
      rollups: section.rollups,
      queryTimeoutMs: section.queryTimeoutMs,
      ...(section.cache ? { cache: section.cache } : {}),
      logLevel: shared.logLevel,
    },
    'Invalid insights settings',
  );
}
