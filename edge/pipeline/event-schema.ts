/**
 * @module The Segment event as clients send it, validated at the boundary.
 * Every field of the Segment spec survives under its own name (the table in
 * docs/fields.md); what is not in the spec is dropped here: the `writeKey`
 * (a credential, already checked), SDK bookkeeping such as `_metadata`, and
 * fields only the edge sets (`receivedAt`, `projectId`, `eventTime`,
 * `enrichment`), so a client cannot forge them.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../shared/event.ts';

/**
 * ISO 8601 with a zone (`Z`, `+01:00` or `+0100`). A zone-less time would be
 * read in the server's zone, so it is refused rather than guessed.
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** What every SDK sends (Date#toISOString): Date.parse takes it as is. */
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

export function parseIsoInstant(value: string): number | undefined {
  if (CANONICAL_UTC.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!ISO_WITH_ZONE.test(value)) return undefined;
  // Date.parse takes at most millisecond precision and a colon in the offset.
  const normalised = value
    .replace(/(\.\d{3})\d+/, '$1')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
    .replace(/([+-]\d{2})$/, '$1:00');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? undefined : ms;
}

const isoInstant = z
  .string()
  .max(64)
  .refine((s) => parseIsoInstant(s) !== undefined, 'must be an ISO 8601 date-time with a zone');

/** Segment SDKs may send numeric ids; the contract stores strings. */
const id = z.union([z.string().max(1024), z.number().finite().transform(String)]);
const record = z.record(z.string(), z.unknown());
const label = z.string().max(1024);

export const incomingEventSchema = z
  .object({
    type: z.enum(EVENT_TYPES),
    event: label.optional(),
    name: label.nullish().transform((v) => v ?? undefined),
    /** page and screen: the page's category (analytics.js `page(category, name)`). */
    category: label.nullish().transform((v) => v ?? undefined),
    messageId: z.string().min(1).max(256).optional(),
    userId: id.nullish(),
    anonymousId: id.nullish(),
    groupId: id.optional(),
    previousId: id.optional(),
    timestamp: isoInstant.optional(),
    /** RudderStack's SDKs and Segment's mobile libraries send this instead of `timestamp`. */
    originalTimestamp: isoInstant.optional(),
    sentAt: isoInstant.optional(),
    /** browser, server, mobile, web, …: where the SDK ran. */
    channel: label.nullish().transform((v) => v ?? undefined),
    /** Per-destination switches (`{"All": false, "Mixpanel": true}`), kept for downstream routing. */
    integrations: record.optional(),
    properties: record.optional(),
    traits: record.optional(),
    context: record.optional(),
  })
  .superRefine((e, ctx) => {
    if (!e.userId && !e.anonymousId) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'userId or anonymousId is required' });
    }
    if (e.type === 'track' && !e.event) {
      ctx.addIssue({ code: 'custom', path: ['event'], message: 'a track event needs an event name' });
    }
    if (e.type === 'group' && !e.groupId) {
      ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'a group call needs groupId' });
    }
    if (e.type === 'alias' && !e.previousId) {
      ctx.addIssue({ code: 'custom', path: ['previousId'], message: 'an alias call needs previousId' });
    }
  });

export type IncomingEvent = z.infer<typeof incomingEventSchema>;
