/**
 * @module The event contract every deployable shares: what the edge puts on the
 * bus and what the loader reads back (docs/architecture.md, "One event, from
 * `POST /v1/batch` to a Hive row").
 */

export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * A Segment-spec event after the edge has validated and enriched it. The
 * client's fields keep their names and values (docs/fields.md lists each);
 * what the edge adds has names of its own: `projectId`, `receivedAt`,
 * `eventTime`, `enrichment` (and `messageId` when the client sent none).
 */
export interface EnrichedEvent {
  type: EventType;
  /** track: the event name. */
  event?: string;
  /** page/screen: the page or screen name, if any. */
  name?: string;
  /** page/screen: its category, if any. */
  category?: string;
  messageId: string;
  userId?: string | null;
  anonymousId?: string | null;
  groupId?: string;
  previousId?: string;
  /** The client's `timestamp`, as sent (Segment's SDKs). */
  timestamp?: string;
  /** The client's `originalTimestamp`, as sent (RudderStack's SDKs, Segment's mobile libraries). */
  originalTimestamp?: string;
  /** Client's clock when it sent the batch, ISO 8601, as received (the event's own or the batch's). */
  sentAt?: string;
  /** Server clock at the edge, ISO 8601 UTC: the warehouse partitions on it. */
  receivedAt: string;
  /**
   * Added by the edge: when the event happened, ISO 8601 UTC, the client's
   * time corrected for its clock skew (enrich-events.ts). Every edge sets
   * it; messages written before it existed (and a Worker's queue built then)
   * carry the corrected time in `timestamp` instead, so readers fall back.
   */
  eventTime?: string;
  channel?: string;
  integrations?: Record<string, unknown>;
  projectId: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  /** As sent, but for `context.ip`, which the edge replaces by `enrichment.ipHash`. */
  context?: Record<string, unknown>;
  /** Added by the edge; never the raw address. */
  enrichment?: {
    ipHash?: string;
    country?: string;
    userAgent?: { browser?: string; browserVersion?: string; os?: string; device?: string };
    /** The user agent is a bot's (crawler, HTTP client, headless browser), by the `isbot` list. */
    bot?: boolean;
  };
}

/** The Kafka key: one user's events stay in one partition, hence in order. */
export function eventKey(
  e: Pick<EnrichedEvent, 'projectId' | 'userId' | 'anonymousId' | 'messageId'>,
): string {
  return `${e.projectId}:${e.userId ?? e.anonymousId ?? e.messageId}`;
}
