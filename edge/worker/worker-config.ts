/**
 * @module The Worker's bindings and their validation. Vars (wrangler.toml
 * `[vars]`) and secrets (`wrangler secret put`) arrive as `env`; JSON ones
 * may be a JSON string (a secret, or `--var`) or an object (a TOML table).
 * A Worker has no start-up hook, so the config is parsed on the first
 * request or batch of an isolate (worker-runtime.ts) and a bad one fails
 * every request with a logged 500, and every batch with a retry, until it
 * is fixed: nothing is accepted or dropped under a broken config.
 */
import { z } from 'zod';
import { limitsSchema } from '../limits.ts';
import { projectsSchema } from '../project-registry.ts';
import { CLOUDFLARE_QUEUE_LIMITS, type QueuedEvents } from './queue-message.ts';
import { regionTableSchema } from './region-table.ts';

export interface Env {
  /** Producer binding of the events queue. */
  EVENTS_QUEUE: Queue<QueuedEvents>;
  /** JSON array of projects (edge/project-registry.ts). */
  PROJECTS: unknown;
  /** JSON region table (region-table.ts). */
  REGIONS: unknown;
  /** Secret: salt of the IP hash, at least 16 characters. */
  IP_SALT: string;
  /** Secret: HMAC key of relay batches; each regional relay has the same (EDGE_RELAY_SECRET). */
  RELAY_SECRET: string;
  /** Optional JSON overrides of the edge limits (edge/limits.ts). */
  LIMITS?: unknown;
  /** Optional JSON overrides of the relay delivery settings (relaySettingsSchema). */
  RELAY?: unknown;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL?: string;
}

const jsonText = (value: unknown) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value; // the schema then says what was expected
  }
};

export const relaySettingsSchema = z.object({
  /** One relay POST; past it the relay counts as down and the next one is tried. */
  timeoutMs: z.number().int().positive().default(10_000),
  /** Bytes of one relay POST: at least one queue message, below the relay's maxRelayBytes (8 MiB by default). */
  maxBodyBytes: z
    .number()
    .int()
    .min(128 * 1000)
    .default(1024 * 1024),
  /** Delay of a message's first redelivery after every relay failed; doubles per attempt. */
  retryBaseSeconds: z.number().int().positive().default(5),
  retryMaxSeconds: z.number().int().positive().max(43_200).default(900),
});
export type RelaySettings = z.infer<typeof relaySettingsSchema>;

const KIB = 1024;
const MAX_EVENT_BYTES = CLOUDFLARE_QUEUE_LIMITS.maxMessageBytes - 16 * KIB;

/** Keyed by binding name, so an error names the var or secret to fix. */
const workerEnvSchema = z
  .object({
    PROJECTS: z.preprocess(jsonText, projectsSchema),
    REGIONS: z.preprocess(jsonText, regionTableSchema),
    IP_SALT: z.string().min(16, 'IP_SALT must be a secret of at least 16 characters'),
    RELAY_SECRET: z.string().min(16, 'RELAY_SECRET must be a secret of at least 16 characters'),
    LIMITS: z.preprocess(
      jsonText,
      limitsSchema
        .default(limitsSchema.parse({}))
        // An accepted event must fit a queue message with its envelope.
        .refine((l) => l.maxEventBytes <= MAX_EVENT_BYTES, {
          message: `maxEventBytes must leave room in a queue message (at most ${MAX_EVENT_BYTES})`,
        }),
    ),
    RELAY: z.preprocess(jsonText, relaySettingsSchema.default(relaySettingsSchema.parse({}))),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .transform((env) => ({
    projects: env.PROJECTS,
    regions: env.REGIONS,
    ipSalt: env.IP_SALT,
    relaySecret: env.RELAY_SECRET,
    limits: env.LIMITS,
    relay: env.RELAY,
    logLevel: env.LOG_LEVEL,
  }));
export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export class WorkerConfigError extends Error {}

export function parseWorkerConfig(env: Env): WorkerConfig {
  const parsed = workerEnvSchema.safeParse({
    PROJECTS: env.PROJECTS,
    REGIONS: env.REGIONS,
    IP_SALT: env.IP_SALT,
    RELAY_SECRET: env.RELAY_SECRET,
    LIMITS: env.LIMITS,
    RELAY: env.RELAY,
    LOG_LEVEL: env.LOG_LEVEL || undefined,
  });
  if (!parsed.success) {
    throw new WorkerConfigError(`Invalid Worker configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
