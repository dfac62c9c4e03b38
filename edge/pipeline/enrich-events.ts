/**
 * @module Pipeline step 4, enrich: what only the server knows, under names
 * of its own. `receivedAt` (the warehouse partitions on it), a `messageId`
 * when the client sent none, the project, an anonymised IP, the parsed user
 * agent and whether it is a bot's, the country, and `eventTime`: the client's time corrected for its
 * clock skew. The client's fields go on as sent, but for `context.ip`.
 */
import type { EnrichedEvent } from '../../shared/event.ts';
import type { BotJudge } from './bot-agent.ts';
import type { IncomingEvent } from './event-schema.ts';
import { parseIsoInstant } from './event-schema.ts';
import type { UserAgentParser } from './user-agent.ts';

/** What the request tells about every event in it. */
export interface RequestFacts {
  projectId: string;
  receivedAtMs: number;
  /** Hash of the connection's address; `context.ip` of an event overrides it. */
  ipHash?: string;
  country?: string;
  /** The User-Agent header, used when an event's `context.userAgent` is absent. */
  userAgent?: string;
  /** Batch-level sentAt, for events without their own. */
  sentAt?: string;
}

export interface EnrichDeps {
  parseUserAgent: UserAgentParser;
  /** isbot's answer, memoised (bot-agent.ts). */
  isBot: BotJudge;
  hashIp: (ip: string) => Promise<string>;
  newMessageId: () => string;
}

/**
 * Segment's skew correction, giving `eventTime`: the client's clock may be
 * off, but the gap between its event time and its `sentAt` is right; anchor
 * that gap on our `receivedAt`. The client's event time is its `timestamp`
 * (Segment's SDKs, or a time set by hand) or else its `originalTimestamp`
 * (RudderStack's SDKs and Segment's mobile libraries send only that).
 * Without `sentAt` the client's time is kept; without either time the event
 * happened when we received it. The client's own fields are left as sent.
 */
export function correctTimestamp(
  clientTime: string | undefined,
  sentAt: string | undefined,
  receivedAtMs: number,
): string {
  const ts = clientTime === undefined ? undefined : parseIsoInstant(clientTime);
  if (ts === undefined) return new Date(receivedAtMs).toISOString();
  const sent = sentAt === undefined ? undefined : parseIsoInstant(sentAt);
  let corrected = sent === undefined ? ts : receivedAtMs - (sent - ts);
  // Date's range is ±8.64e15 ms; absurd clocks keep the client's time.
  if (!Number.isFinite(corrected) || Math.abs(corrected) > 8.64e15) corrected = ts;
  return new Date(corrected).toISOString();
}

export async function enrichEvents(
  events: readonly IncomingEvent[],
  facts: RequestFacts,
  deps: EnrichDeps,
): Promise<EnrichedEvent[]> {
  const receivedAt = new Date(facts.receivedAtMs).toISOString();
  const out: EnrichedEvent[] = [];
  for (const e of events) {
    const { context, ipHash } =
      e.context && 'ip' in e.context
        ? await stripIp(e.context, deps.hashIp, facts.ipHash)
        : { context: e.context, ipHash: facts.ipHash };
    const ua = typeof context?.userAgent === 'string' ? context.userAgent : facts.userAgent;
    const sentAt = e.sentAt ?? facts.sentAt;
    const enriched: EnrichedEvent = {
      type: e.type,
      messageId: e.messageId ?? deps.newMessageId(),
      projectId: facts.projectId,
      receivedAt,
      eventTime: correctTimestamp(e.timestamp ?? e.originalTimestamp, sentAt, facts.receivedAtMs),
    };
    if (e.event !== undefined) enriched.event = e.event;
    if (e.name !== undefined) enriched.name = e.name;
    if (e.category !== undefined) enriched.category = e.category;
    if (e.timestamp !== undefined) enriched.timestamp = e.timestamp;
    if (e.originalTimestamp !== undefined) enriched.originalTimestamp = e.originalTimestamp;
    if (e.userId !== undefined) enriched.userId = e.userId;
    if (e.anonymousId !== undefined) enriched.anonymousId = e.anonymousId;
    if (e.groupId !== undefined) enriched.groupId = e.groupId;
    if (e.previousId !== undefined) enriched.previousId = e.previousId;
    if (sentAt !== undefined) enriched.sentAt = sentAt;
    if (e.channel !== undefined) enriched.channel = e.channel;
    if (e.integrations !== undefined) enriched.integrations = e.integrations;
    if (e.properties !== undefined) enriched.properties = e.properties;
    if (e.traits !== undefined) enriched.traits = e.traits;
    if (context !== undefined) enriched.context = context;
    const enrichment: NonNullable<EnrichedEvent['enrichment']> = {};
    if (ipHash !== undefined) enrichment.ipHash = ipHash;
    if (facts.country !== undefined) enrichment.country = facts.country;
    if (ua) enrichment.userAgent = deps.parseUserAgent(ua);
    const judged = botJudgedAgent(context, facts.userAgent);
    // isbot's maintained list (crawlers, curl, headless browsers): kept in the warehouse, left out
    // of dashboards by default. Without a user agent to judge there is no flag.
    if (judged) enrichment.bot = deps.isBot(judged);
    enriched.enrichment = enrichment;
    out.push(enriched);
  }
  return out;
}

/**
 * Server SDKs forward the end user's address in `context.ip` (Segment's rule:
 * it wins over the connection's). It is hashed and removed, so the raw
 * address never reaches the bus.
 */
async function stripIp(
  context: Record<string, unknown>,
  hashIp: (ip: string) => Promise<string>,
  connectionHash: string | undefined,
): Promise<{ context: Record<string, unknown>; ipHash: string | undefined }> {
  const { ip, ...rest } = context;
  const ipHash = typeof ip === 'string' && ip !== '' ? await hashIp(ip) : connectionHash;
  return { context: rest, ipHash };
}

/** Two-letter country from the platform's header; Cloudflare's XX and T1 (Tor) mean unknown. */
export function countryFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const code = header.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) && code !== 'XX' && code !== 'T1' ? code : undefined;
}

/**
 * The user agent whose bot-ness counts: the event's own `context.userAgent` (browser SDKs, the
 * tracker and mobile SDKs send the person's); else the request's header, unless a library sent
 * the event (`context.library`): a server or app SDK's header names its HTTP client
 * (analytics-node, okhttp, python-requests), which isbot lists, and says nothing of the person.
 */
function botJudgedAgent(
  context: Record<string, unknown> | undefined,
  header: string | undefined,
): string | undefined {
  if (typeof context?.userAgent === 'string') return context.userAgent;
  if (context?.library !== undefined) return undefined;
  return header;
}
