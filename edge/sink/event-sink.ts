/**
 * @module The port the edge hands accepted events to. The rule every sink
 * keeps: `accept` resolves only once the events are durable (Kafka with
 * acks=all or the disk spool on Node, a Cloudflare Queue on Workers), because
 * the edge answers 2xx right after. When it cannot promise that, it rejects
 * with SinkUnavailableError (a 503 with Retry-After). Pipeline steps never
 * see a producer, only this.
 */
import type { EnrichedEvent } from '../../shared/event.ts';

export interface SinkReadiness {
  ready: boolean;
  /** Shown on /readyz (mode, spool depth); nothing secret. */
  detail?: Record<string, unknown>;
}

export interface EventSink {
  accept(events: EnrichedEvent[]): Promise<void>;
  readiness(): SinkReadiness;
}
