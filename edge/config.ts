/**
 * @module The Node edge's configuration: a JSON file (`--config`, or
 * EDGE_CONFIG) overlaid by environment variables, validated once at start-up
 * so a bad setting fails fast with a readable message.
 *
 * Environment: EDGE_HOST, EDGE_PORT, EDGE_PROJECTS (JSON array),
 * EDGE_PROJECTS_FILE, EDGE_IP_SALT, EDGE_RELAY_SECRET, EDGE_COUNTRY_HEADER,
 * EDGE_CLIENT_IP_HEADER, KAFKA_BROKERS (comma-separated), EDGE_TOPIC,
 * EDGE_TOPIC_PARTITIONS, EDGE_SPOOL_DIR, EDGE_SPOOL_MAX_BYTES.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { limitsSchema } from './limits.ts';
import { projectsSchema } from './project-registry.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

export const edgeConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(8080),
  projects: projectsSchema,
  limits: limitsSchema.default(limitsSchema.parse({})),
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
  kafka: z.object({
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().default('beacon-edge'),
    topic: z.string().default('events'),
    partitions: z.number().int().positive().default(6),
  }),
  sink: z
    .object({
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
        .object({ minMs: z.number().int().positive(), maxMs: z.number().int().positive() })
        .default({ minMs: 200, maxMs: 5000 }),
    })
    .default({
      produceTimeoutMs: 2000,
      drainTimeoutMs: 15_000,
      maxBatchMessages: 1000,
      maxBatchBytes: 768 * KIB,
      maxInFlight: 1,
      drainBackoff: { minMs: 200, maxMs: 5000 },
    }),
  spool: z.object({
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

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

export class ConfigError extends Error {}

/** Validates a config object; throws ConfigError listing every problem. */
export function parseEdgeConfig(input: unknown): EdgeConfig {
  const parsed = edgeConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid edge configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

type Env = Record<string, string | undefined>;

/** The file (if any) overlaid by the environment, validated. */
export function loadEdgeConfig(options: { file?: string | undefined; env?: Env } = {}): EdgeConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.EDGE_CONFIG;
  const base: Record<string, unknown> = file ? readJson(file) : {};
  if (file && typeof base.projectsFile === 'string') {
    base.projects = readJson(resolve(dirname(file), base.projectsFile));
  }
  delete base.projectsFile;
  return parseEdgeConfig(overlayEnv(base, env));
}

function overlayEnv(base: Record<string, unknown>, env: Env): Record<string, unknown> {
  const config: Record<string, unknown> = { ...base };
  const kafka: Record<string, unknown> = { ...(base.kafka as object | undefined) };
  const spool: Record<string, unknown> = { ...(base.spool as object | undefined) };
  if (env.EDGE_HOST) config.host = env.EDGE_HOST;
  if (env.EDGE_PORT) config.port = Number(env.EDGE_PORT);
  if (env.EDGE_PROJECTS) config.projects = parseJsonText(env.EDGE_PROJECTS, 'EDGE_PROJECTS');
  if (env.EDGE_PROJECTS_FILE) config.projects = readJson(env.EDGE_PROJECTS_FILE);
  if (env.EDGE_IP_SALT) config.ipSalt = env.EDGE_IP_SALT;
  if (env.EDGE_RELAY_SECRET) config.relaySecret = env.EDGE_RELAY_SECRET;
  if (env.EDGE_COUNTRY_HEADER) config.countryHeader = env.EDGE_COUNTRY_HEADER;
  if (env.EDGE_CLIENT_IP_HEADER) config.clientIpHeader = env.EDGE_CLIENT_IP_HEADER;
  if (env.KAFKA_BROKERS) kafka.brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim());
  if (env.EDGE_TOPIC) kafka.topic = env.EDGE_TOPIC;
  if (env.EDGE_TOPIC_PARTITIONS) kafka.partitions = Number(env.EDGE_TOPIC_PARTITIONS);
  if (env.EDGE_SPOOL_DIR) spool.dir = env.EDGE_SPOOL_DIR;
  if (env.EDGE_SPOOL_MAX_BYTES) spool.maxBytes = Number(env.EDGE_SPOOL_MAX_BYTES);
  config.kafka = kafka;
  config.spool = spool;
  return config;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the config file ${path}: ${(err as Error).message}`);
  }
  return parseJsonText(text, path) as Record<string, unknown>;
}

function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}
