/**
 * @module Pipeline step 5, produce: hand the enriched events to the sink and
 * wait until they are durable. A sink that fails for any reason of its own
 * becomes a 503 with Retry-After (never a 500, never a 2xx): the SDKs retry
 * it, and duplicates from retries are removed downstream by messageId.
 */
import { PipelineError } from '../../shared/errors.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { SinkUnavailableError } from '../edge-errors.ts';
import type { EventSink } from '../sink/event-sink.ts';

const RETRY_AFTER_SECONDS = 5;

export async function produce(sink: EventSink, events: EnrichedEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await sink.accept(events);
  } catch (err) {
    if (err instanceof SinkUnavailableError) throw err;
    if (err instanceof PipelineError && err.status < 500) throw err;
    throw new SinkUnavailableError('Events could not be stored; retry later.', {
      code: 'sink_unavailable',
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      cause: err,
    });
  }
}
