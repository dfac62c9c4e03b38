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

/**
 * Recent answers of parseIsoInstant: each timestamp is parsed by validation
 * and again by enrichment (and a batch's sentAt once per event). Bounded:
 * cleared when full.
 */
const instants = new Map<string, number | undefined>();
const INSTANTS_MAX = 4096;

export function parseIsoInstant(value: string): number | undefined {
  const known = instants.get(value);
  if (known !== undefined || instants.has(value)) return known;
  const ms = parseIsoInstantUncached(value);
  if (instants.size >= INSTANTS_MAX) instants.clear();
  instants.set(value, ms);
  return ms;
}

function parseIsoInstantUncached(value: string): number | undefined {
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

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * The schema above, for the events it accepts, without zod: the edge's
 * hottest path (one call per event). It answers only when the event is
 * valid, with what `incomingEventSchema` would return for the fields the
 * pipeline reads (records are passed on, not copied); anything unusual
 * (an invalid field, null where only undefined is allowed, a `__proto__` key
 * in a record) returns undefined and zod decides, with its messages. The
 * property test in event-schema.test.ts holds it to zod's answers.
 */
export function fastParseIncomingEvent(raw: unknown): IncomingEvent | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const e = raw as Record<string, unknown>;
  const type = e.type;
  if (typeof type !== 'string' || !EVENT_TYPE_SET.has(type)) return undefined;
  const out = { type } as IncomingEvent;
  const event = e.event;
  if (event !== undefined) {
    if (typeof event !== 'string' || event.length > 1024) return undefined;
    out.event = event;
  }
  const name = e.name;
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string' || name.length > 1024) return undefined;
    out.name = name;
  }
  for (const field of ['category', 'channel'] as const) {
    const value = e[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.length > 1024) return undefined;
    out[field] = value;
  }
  const messageId = e.messageId;
  if (messageId !== undefined) {
    if (typeof messageId !== 'string' || messageId.length < 1 || messageId.length > 256) return undefined;
    out.messageId = messageId;
  }
  const userId = fastId(e.userId, true);
  const anonymousId = fastId(e.anonymousId, true);
  const groupId = fastId(e.groupId, false);
  const previousId = fastId(e.previousId, false);
  if (userId === INVALID || anonymousId === INVALID || groupId === INVALID || previousId === INVALID) {
    return undefined;
  }
  if (userId !== undefined) out.userId = userId;
  if (anonymousId !== undefined) out.anonymousId = anonymousId;
  if (groupId !== undefined) out.groupId = groupId as string;
  if (previousId !== undefined) out.previousId = previousId as string;
  for (const field of ['timestamp', 'originalTimestamp', 'sentAt'] as const) {
    const value = e[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > 64 || parseIsoInstant(value) === undefined)
      return undefined;
    out[field] = value;
  }
  for (const field of ['integrations', 'properties', 'traits', 'context'] as const) {
    const value = e[field];
    if (value === undefined) continue;
    if (!isPlainRecord(value)) return undefined;
    out[field] = value;
  }
  // The superRefine's rules: a failing one is zod's to report.
  if (!out.userId && !out.anonymousId) return undefined;
  if (type === 'track' && !out.event) return undefined;
  if (type === 'group' && !out.groupId) return undefined;
  if (type === 'alias' && !out.previousId) return undefined;
  return out;
}

const INVALID = Symbol('invalid');

/** `id.nullish()` (nullable) or `id.optional()`: a string up to 1024, or a finite number as a string. */
function fastId(value: unknown, nullable: boolean): string | null | undefined | typeof INVALID {
  if (value === undefined) return undefined;
  if (value === null) return nullable ? null : INVALID;
  if (typeof value === 'string') return value.length <= 1024 ? value : INVALID;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return INVALID;
}

/** What zod's record of unknown passes unchanged: a JSON object without an own `__proto__` key (zod drops it). */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    !Object.hasOwn(value, '__proto__')
  );
}
