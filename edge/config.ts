/**
 * @module The Node edge's configuration: a JSON file (`--config`, or
 * EDGE_CONFIG) overlaid by environment variables, validated once at start-up
 * so a bad setting fails fast with a readable message. Strict: a misspelt key
 * (`limits.maxEventByte`) is an error naming it, not a setting silently lost.
 *
 * Environment: EDGE_HOST, EDGE_PORT, EDGE_PROJECTS (JSON array),
 * EDGE_PROJECTS_FILE, EDGE_IP_SALT, EDGE_RELAY_SECRET, EDGE_COUNTRY_HEADER,
 * EDGE_CLIENT_IP_HEADER, KAFKA_BROKERS (comma-separated), EDGE_REGIONS (JSON
 * array of {name, brokers}, the own region first), EDGE_TOPIC,
 * EDGE_TOPIC_PARTITIONS, EDGE_SPOOL_DIR, EDGE_SPOOL_MAX_BYTES, EDGE_WORKERS.
 *
 * Also the edge's section of the pipeline file (shared/config/pipeline-config.ts):
 * `edgeSectionSchema` and `edgeConfigOfSection`; pipeline-config.ts here reads
 * the whole file the way `npm start` does.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { kafkaBrokersSchema } from '../shared/adapters-config.ts';
import { ConfigError, parseConfig } from '../shared/config/config-error.ts';
import { readJsonFile } from '../shared/config/config-file.ts';
import { DEFAULT_PORTS, portSchema } from '../shared/config/pipeline-config.ts';
import { type ProjectsSection, projectEntrySchema } from '../shared/config/projects.ts';
import { httpServerSettingsSchema } from '../shared/node-server.ts';
import { limitsSchema } from './limits.ts';
import { projectsSchema, rateLimitSchema } from './project-registry.ts';

export { type ProjectsSection, projectsSectionSchema } from '../shared/config/projects.ts';
export { ConfigError };

const KIB = 1024;
const MIB = 1024 * KIB;

const strictRateLimit = z.strictObject(rateLimitSchema.shape);
const strictLimitsSchema = z.strictObject({
  ...limitsSchema.shape,
  defaultRateLimit: strictRateLimit.default({ perSecond: 1000, burst: 5000 }),
});

const sinkSchema = z.strictObject({
  produceTimeoutMs: z.number().int().positive().default(2000),
  drainTimeoutMs: z.number().int().positive().default(15_000),
  maxBatchMessages: z.number().int().positive().default(1000),
  maxBatchBytes: z
    .number()
    .int()
    .positive()
    .default(768 * KIB),
  // kafkajs sends one idempotent request at a time: more groups in flight only queue
  // there, while one in flight lets the next group gather every request that arrives.
  maxInFlight: z.number().int().positive().default(1),
  drainBackoff: z
    .strictObject({ minMs: z.number().int().positive(), maxMs: z.number().int().positive() })
    .default({ minMs: 200, maxMs: 5000 }),
});

/** Region failover's timings when `kafka.failover` is not set. */
export const FAILOVER_DEFAULTS = { attemptTimeoutMs: 1000, probeIntervalMs: 2000 } as const;

const regionSchema = z.strictObject({
  /** Also the prefix of the replica topic on central (`<name>.events`, docs/regions.md). */
  name: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'region names are lower-case letters and digits'),
  brokers: kafkaBrokersSchema,
});

/**
 * The edge's producer, chosen by `npm run bench:edge` (edge/README.md, "Measurements"): the
 * standalone edge's defaults, and the pipeline file's edge's where its `bus` section names none.
 */
export const EDGE_KAFKA_DEFAULTS = { client: 'platformatic', compression: 'lz4' } as const;

const kafkaSchema = z.strictObject({
  /** Unset when the caller passes a bus to `startEdge` (one machine: the local log), or with `regions`. */
  brokers: kafkaBrokersSchema.optional(),
  /**
   * Instead of `brokers`: the regions' clusters in order of preference, the edge's own first.
   * Produces go to the first that answers and return to the own one when it recovers
   * (sink/region-router.ts).
   */
  regions: z
    .array(regionSchema)
    .min(1)
    .superRefine((regions, ctx) => {
      const seen = new Set<string>();
      for (const [i, r] of regions.entries()) {
        if (seen.has(r.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `region ${r.name} twice` });
        seen.add(r.name);
      }
    })
    .optional(),
  /** With `regions`: a produce slower than `attemptTimeoutMs` goes to the next region; the own one is probed every `probeIntervalMs`. */
  // Absent unless set (configs without regions parse as before); FAILOVER_DEFAULTS fills it.
  failover: z
    .strictObject({
      attemptTimeoutMs: z.number().int().positive().default(FAILOVER_DEFAULTS.attemptTimeoutMs),
      probeIntervalMs: z.number().int().positive().default(FAILOVER_DEFAULTS.probeIntervalMs),
    })
    .optional(),
  clientId: z.string().default('beacon-edge'),
  /**
   * Which Kafka client produces: @platformatic/kafka by default, measured by
   * `npm run bench:edge` (edge/README.md, "Measurements"); kafkajs stays selectable.
   */
  client: z.enum(['kafkajs', 'platformatic']).default(EDGE_KAFKA_DEFAULTS.client),
  /**
   * Compression of the produced record batches: lz4 by default, a fraction of
   * gzip's CPU on the edge (edge/README.md, "Measurements"); every reader of
   * the pipeline decodes it (kafkajs through shared/bus/kafka/lz4-codec.ts).
   */
  compression: z.enum(['lz4', 'gzip', 'none']).default(EDGE_KAFKA_DEFAULTS.compression),
  topic: z.string().default('events'),
  partitions: z.number().int().positive().default(6),
});

export const edgeConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(8080),
  /**
   * Processes serving the port (node:cluster, cluster.ts): one per core the
   * edge may use. 1, the default, runs no cluster; the bench machine's two cores
   * are shared with the broker and the load generator.
   */
  workers: z.number().int().min(1).max(256).default(1),
  /** Deadlines for slow clients and header limits (shared/node-server.ts). */
  http: httpServerSettingsSchema.prefault({}),
  // Strict entries, and the registry's own rules across them (a write key used twice).
  projects: z.array(projectEntrySchema).superRefine((projects, ctx) => {
    for (const { path, message } of projectsSchema.safeParse(projects).error?.issues ?? [])
      ctx.addIssue({ code: 'custom', path, message });
  }),
  limits: strictLimitsSchema.prefault({}),
  /** Secret salt of the IP hash (HMAC key). */
  ipSalt: z.string().min(16, 'ipSalt must be at least 16 characters'),
  /** Enables POST /v1/relay for batches signed by the Worker's queue consumer. */
  relaySecret: z.string().min(16).optional(),
  countryHeader: z.string().default('cf-ipcountry'),
  /**
   * Header naming the client address when a trusted proxy sets it
   * (x-forwarded-for: its first entry). Unset: the socket's address.
   */
  clientIpHeader: z.string().optional(),
  /** Optional as a whole: the topic defaults, and brokers are needed only when no bus is passed in. */
  kafka: kafkaSchema.prefault({}),
  sink: sinkSchema.prefault({}),
  spool: z.strictObject({
    dir: z.string().min(1),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * MIB),
    segmentBytes: z
      .number()
      .int()
      .positive()
      .default(8 * MIB),
    fullRetryAfterSeconds: z.number().int().positive().default(30),
  }),
  /** On SIGTERM: how long in-flight requests and the spool drain may take. */
  shutdownGraceMs: z.number().int().nonnegative().default(10_000),
});

// The standalone edge (`node edge/node.ts`) has no bus but Kafka: brokers or regions, exactly one.
const standaloneEdgeConfigSchema = edgeConfigSchema.extend({
  kafka: kafkaSchema.refine((k) => (k.brokers === undefined) !== (k.regions === undefined), {
    message: 'set kafka.brokers (one cluster) or kafka.regions (failover across regions), not both',
  }),
});

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

/** Validates a config object; throws ConfigError listing every problem. */
export function parseEdgeConfig(input: unknown): EdgeConfig {
  return parseWith(edgeConfigSchema, input);
}

function parseWith(schema: z.ZodType<EdgeConfig>, input: unknown): EdgeConfig {
  return parseConfig(schema, input, 'Invalid edge configuration');
}

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------- the one-machine file's sections

/** The edge's section of the one-machine file: what a person tunes there; the rest comes from shared sections. */
export const edgeSectionSchema = z
  .strictObject({
    port: portSchema.default(DEFAULT_PORTS.edge),
    ipSalt: z.string().min(16).optional(),
    /** Enables the signed POST /v1/relay (history backfill by `npm run demo`); false turns it off. */
    relaySecret: z.union([z.string().min(16), z.literal(false)]).optional(),
    countryHeader: z.string().optional(),
    clientIpHeader: z.string().optional(),
    limits: strictLimitsSchema.optional(),
    sink: sinkSchema.optional(),
    spoolMaxBytes: z.number().int().positive().optional(),
    shutdownGraceMs: z.number().int().nonnegative().default(10_000),
  })
  .prefault({});

export type EdgeSection = z.output<typeof edgeSectionSchema>;

/**
 * The edge's full config from its section and the file's shared settings. The
 * bus is passed to `startEdge`, so no Kafka brokers here; generated secrets
 * fill what the section leaves unset. Throws ConfigError naming a bad field.
 */
export function edgeConfigOfSection(
  section: EdgeSection,
  shared: {
    host: string;
    projects: ProjectsSection;
    topic: string;
    partitions: number;
    spoolDir: string;
    generated: { ipSalt: string; relaySecret: string };
    /** The file's `http` section: every server's deadlines and header limits. */
    http?: Record<string, unknown>;
  },
): EdgeConfig {
  const { port, ipSalt, relaySecret, spoolMaxBytes, ...rest } = section;
  const relay = relaySecret === false ? undefined : (relaySecret ?? shared.generated.relaySecret);
  return parseEdgeConfig({
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    host: shared.host,
    port,
    ...(shared.http ? { http: shared.http } : {}),
    projects: shared.projects,
    ipSalt: ipSalt ?? shared.generated.ipSalt,
    ...(relay ? { relaySecret: relay } : {}),
    kafka: { topic: shared.topic, partitions: shared.partitions },
    spool: { dir: shared.spoolDir, ...(spoolMaxBytes ? { maxBytes: spoolMaxBytes } : {}) },
  });
}

/** The file (if any) overlaid by the environment, validated. */
export function loadEdgeConfig(options: { file?: string | undefined; env?: Env } = {}): EdgeConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.EDGE_CONFIG;
  const base: Record<string, unknown> = file ? readJson(file) : {};
  if (file && typeof base.projectsFile === 'string') {
    base.projects = readJson(resolve(dirname(file), base.projectsFile));
  }
  delete base.projectsFile;
  return parseWith(standaloneEdgeConfigSchema, overlayEnv(base, env));
}

function overlayEnv(base: Record<string, unknown>, env: Env): Record<string, unknown> {
  const config: Record<string, unknown> = { ...base };
  const kafka: Record<string, unknown> = { ...(base.kafka as object | undefined) };
  const spool: Record<string, unknown> = { ...(base.spool as object | undefined) };
  if (env.EDGE_HOST) config.host = env.EDGE_HOST;
  if (env.EDGE_PORT) config.port = Number(env.EDGE_PORT);
  if (env.EDGE_WORKERS) config.workers = Number(env.EDGE_WORKERS);
  if (env.EDGE_PROJECTS) config.projects = parseJsonText(env.EDGE_PROJECTS, 'EDGE_PROJECTS');
  if (env.EDGE_PROJECTS_FILE) config.projects = readJson(env.EDGE_PROJECTS_FILE);
  if (env.EDGE_IP_SALT) config.ipSalt = env.EDGE_IP_SALT;
  if (env.EDGE_RELAY_SECRET) config.relaySecret = env.EDGE_RELAY_SECRET;
  if (env.EDGE_COUNTRY_HEADER) config.countryHeader = env.EDGE_COUNTRY_HEADER;
  if (env.EDGE_CLIENT_IP_HEADER) config.clientIpHeader = env.EDGE_CLIENT_IP_HEADER;
  if (env.KAFKA_BROKERS) kafka.brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim());
  if (env.EDGE_REGIONS) kafka.regions = parseJsonText(env.EDGE_REGIONS, 'EDGE_REGIONS');
  if (env.EDGE_TOPIC) kafka.topic = env.EDGE_TOPIC;
  if (env.EDGE_KAFKA_CLIENT) kafka.client = env.EDGE_KAFKA_CLIENT;
  if (env.EDGE_KAFKA_COMPRESSION) kafka.compression = env.EDGE_KAFKA_COMPRESSION;
  if (env.EDGE_TOPIC_PARTITIONS) kafka.partitions = Number(env.EDGE_TOPIC_PARTITIONS);
  if (env.EDGE_SPOOL_DIR) spool.dir = env.EDGE_SPOOL_DIR;
  if (env.EDGE_SPOOL_MAX_BYTES) spool.maxBytes = Number(env.EDGE_SPOOL_MAX_BYTES);
  config.kafka = kafka;
  config.spool = spool;
  return config;
}

function readJson(path: string): Record<string, unknown> {
  return readJsonFile(path) as Record<string, unknown>;
}

function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
