/**
 * @module Step "map": one enriched event (the bus contract) to one row of the
 * `events` table (shared/warehouse.ts). Pure and total: any JSON object that
 * passed the edge maps to a row; nothing here throws on odd input, because a
 * single strange event must never stop an hour from loading. New properties
 * need no change here: they travel inside the `properties` JSON string.
 */
import type { EnrichedEvent } from '../../shared/event.ts';

/** A row of `events`, keys in EVENTS_COLUMNS order. Timestamps are µs since the epoch (UTC). */
export interface EventRow {
  message_id: string;
  project_id: string;
  type: string;
  event: string;
  user_id: string | null;
  anonymous_id: string | null;
  visitor_id: string | null;
  session_id: string | null;
  event_time: number;
  received_at: number;
  sent_at: number | null;
  page_path: string | null;
  page_url: string | null;
  page_title: string | null;
  referrer: string | null;
  referrer_host: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  country: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  ip_hash: string | null;
  properties: string | null;
  traits: string | null;
  context: string | null;
  name: string | null;
  category: string | null;
  group_id: string | null;
  previous_id: string | null;
  client_timestamp: number | null;
  original_timestamp: number | null;
  channel: string | null;
  integrations: string | null;
  is_bot: boolean | null;
}

type Json = Record<string, unknown>;

function objectAt(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Parses an ISO instant to µs since the epoch; null when it is not one. */
export function isoToMicros(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  // Date keeps ms; sub-millisecond digits, when a client sends them, are kept too.
  const fraction = /\.(\d{4,6})/.exec(value)?.[1];
  const extraMicros = fraction ? Number(fraction.padEnd(6, '0').slice(3, 6)) : 0;
  return ms * 1000 + extraMicros;
}

/** The `event` column: track name, or a `$`-name for the other calls (so GROUP BY event covers all). */
export function eventName(e: Pick<EnrichedEvent, 'type' | 'event' | 'name'>): string {
  switch (e.type) {
    case 'track':
      return e.event ?? e.name ?? '$track';
    case 'page':
      return '$pageview';
    case 'screen':
      return '$screen';
    default:
      return `$${e.type}`;
  }
}

/** scheme://[user@]host[:port]…: a regex, because `new URL` for every referrer costs more than the rest of the mapping. */
const HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]+\]|[^/?#:]+)/i;

function hostOf(url: string | null): string | null {
  if (!url) return null;
  return HOST.exec(url)?.[1]?.toLowerCase() ?? null;
}

function pathOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).pathname || null;
  } catch {
    return null;
  }
}

function queryParam(url: string | null, name: string): string | null {
  if (url === null || !url.includes(name)) return null;
  try {
    return new URL(url).searchParams.get(name) || null;
  } catch {
    return null;
  }
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/**
 * Maps one event. `fallbackMs` (the bus timestamp) stands in for a missing or
 * unparsable receivedAt, so bucketing always has an hour.
 */
export function toEventRow(e: EnrichedEvent, fallbackMs: number): EventRow {
  const properties = objectAt(e.properties);
  const context = objectAt(e.context);
  const page = objectAt(context?.page);
  const campaign = objectAt(context?.campaign);
  const isPage = e.type === 'page' || e.type === 'screen';
  // Page calls carry page fields in properties (Segment spec); every call carries context.page.
  const pageUrl = text(isPage ? (properties?.url ?? page?.url) : page?.url);
  const referrer = text(isPage ? (properties?.referrer ?? page?.referrer) : page?.referrer);
  const receivedAt = isoToMicros(e.receivedAt) ?? fallbackMs * 1000;
  const userId = text(e.userId);
  const anonymousId = text(e.anonymousId);
  const ua = e.enrichment?.userAgent;
  return {
    message_id: String(e.messageId),
    project_id: String(e.projectId),
    type: String(e.type),
    event: eventName(e),
    user_id: userId,
    anonymous_id: anonymousId,
    visitor_id: userId ?? anonymousId,
    session_id: text(context?.sessionId ?? properties?.sessionId ?? properties?.session_id),
    // eventTime: the edge's corrected time; older messages carried it in timestamp.
    event_time: isoToMicros(e.eventTime ?? e.timestamp) ?? receivedAt,
    received_at: receivedAt,
    sent_at: isoToMicros(e.sentAt),
    page_path: text(isPage ? (properties?.path ?? page?.path) : page?.path) ?? pathOf(pageUrl),
    page_url: pageUrl,
    page_title: text(isPage ? (properties?.title ?? page?.title) : page?.title),
    referrer,
    referrer_host: hostOf(referrer),
    utm_source: text(campaign?.source) ?? queryParam(pageUrl, 'utm_source'),
    utm_medium: text(campaign?.medium) ?? queryParam(pageUrl, 'utm_medium'),
    utm_campaign: text(campaign?.name ?? campaign?.campaign) ?? queryParam(pageUrl, 'utm_campaign'),
    country: text(e.enrichment?.country),
    browser: text(ua?.browser),
    os: text(ua?.os),
    device: text(ua?.device),
    ip_hash: text(e.enrichment?.ipHash),
    properties: jsonOrNull(e.properties),
    traits: jsonOrNull(e.traits),
    context: jsonOrNull(e.context),
    name: text(e.name),
    category: text(e.category),
    group_id: text(e.groupId),
    previous_id: text(e.previousId),
    client_timestamp: isoToMicros(e.timestamp),
    original_timestamp: isoToMicros(e.originalTimestamp),
    channel: text(e.channel),
    integrations: jsonOrNull(e.integrations),
    is_bot: typeof e.enrichment?.bot === 'boolean' ? e.enrichment.bot : null,
  };
}
