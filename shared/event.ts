/**
 * @module The event contract every deployable shares: what the edge puts on the
 * bus and what the loader reads back (docs/architecture.md, "One event, from
 * `POST /v1/batch` to a Hive row").
 */

export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A Segment-spec event after the edge has validated and enriched it. */
export interface EnrichedEvent {
  type: EventType;
  /** track: the event name; page/screen: the page name, if any. */
  event?: string;
  name?: string;
  messageId: string;
  userId?: string | null;
  anonymousId?: string | null;
  groupId?: string;
  previousId?: string;
  /** Event time, ISO 8601, corrected for client clock skew. */
  timestamp: string;
  /** Client's clock when it sent the batch, ISO 8601, as received. */
  sentAt?: string;
  /** Server clock at the edge, ISO 8601 UTC: the warehouse partitions on it. */
  receivedAt: string;
  /** Client's original timestamp before the skew correction, if it differed. */
  originalTimestamp?: string;
  projectId: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
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
