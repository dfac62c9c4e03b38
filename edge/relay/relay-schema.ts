/**
 * @module The relay body: events the Worker already validated and enriched.
 * The signature proves who sent them; the schema still guards the bus
 * against a Worker bug (a relay batch is checked as a whole: it was built by
 * our code, so a bad event means a bug to surface, not a client to blame).
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../shared/event.ts';
import { parseIsoInstant } from '../pipeline/event-schema.ts';

const record = z.record(z.string(), z.unknown());
/** The Kafka timestamp and the warehouse partition come from these: they must parse. */
const instant = z
  .string()
  .refine((s) => parseIsoInstant(s) !== undefined, 'must be an ISO 8601 date-time with a zone');

export const relayedEventSchema = z.object({
  type: z.enum(EVENT_TYPES),
  event: z.string().optional(),
  name: z.string().optional(),
  category: z.string().optional(),
  messageId: z.string().min(1),
  userId: z.string().nullish(),
  anonymousId: z.string().nullish(),
  groupId: z.string().optional(),
  previousId: z.string().optional(),
  timestamp: z.string().optional(),
  originalTimestamp: z.string().optional(),
  sentAt: z.string().optional(),
  receivedAt: instant,
  // Optional: a Worker built before it existed queued the corrected time in `timestamp`.
  eventTime: instant.optional(),
  channel: z.string().optional(),
  integrations: record.optional(),
  projectId: z.string().min(1),
  properties: record.optional(),
  traits: record.optional(),
  context: record.optional(),
  enrichment: z
    .object({
      ipHash: z.string().optional(),
      country: z.string().optional(),
      userAgent: z
        .object({
          browser: z.string().optional(),
          browserVersion: z.string().optional(),
          os: z.string().optional(),
          device: z.string().optional(),
        })
        .optional(),
      bot: z.boolean().optional(),
    })
    .optional(),
});

export const relayBodySchema = z.object({ events: z.array(relayedEventSchema).min(1) });
