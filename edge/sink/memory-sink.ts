/**
 * @module A sink that keeps events in an array: the test double for unit
 * tests of the app and its steps (integration tests use the real bus).
 * `failWith` makes the next accepts reject, to test the 503 path.
 */
import type { EnrichedEvent } from '../../shared/event.ts';
import type { EventSink, SinkReadiness } from './event-sink.ts';

export class MemorySink implements EventSink {
  readonly events: EnrichedEvent[] = [];
  failWith: Error | undefined;

  async accept(events: EnrichedEvent[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.events.push(...events);
  }

  readiness(): SinkReadiness {
    return { ready: this.failWith === undefined };
  }
}
