/**
 * @module Request limits, configurable per deployment. The defaults are
 * Segment's own (32 KB an event, 500 KB a batch), so an SDK that respects
 * Segment's limits never hits ours.
 */
import { z } from 'zod';
import { rateLimitSchema } from './project-registry.ts';

export const limitsSchema = z.object({
  maxEventBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024),
  /** Applies to the decoded body: a gzip bomb stops here, not in memory. */
  maxBatchBytes: z
    .number()
    .int()
    .positive()
    .default(500 * 1024),
  /**
   * How deep objects and arrays may nest in one event (the event object is
   * level 1; a batch body may go two levels deeper, for its envelope). Segment
   * payloads use about 5 (`properties.products[].variants[]`); 64 leaves ten
   * times that, and stays far below where recursive code (JSON.stringify,
   * zod, the loader) overflows the stack (about 5,000) and below Jackson's
   * default limit that Hive's JSON functions apply (1,000).
   */
  maxDepth: z.number().int().min(4).max(1000).default(64),
  /** Relay batches carry many clients' requests at once (Worker queue consumer). */
  maxRelayBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /** How far a relay signature's timestamp may be from our clock (replay bound). */
  relayMaxSkewSeconds: z.number().int().positive().default(300),
  /** Rate limit of projects that set none. */
  defaultRateLimit: rateLimitSchema.default({ perSecond: 1000, burst: 5000 }),
  /** Write keys whose token bucket is kept in memory (least recently used evicted). */
  rateLimitKeys: z.number().int().positive().default(100_000),
});
export type EdgeLimits = z.infer<typeof limitsSchema>;

export const DEFAULT_LIMITS: EdgeLimits = limitsSchema.parse({});
