/**
 * @module The Worker's EventSink: accepted events go onto a Cloudflare
 * Queue, and `accept` resolves only once every sendBatch has resolved, which
 * is when the Queue has stored the messages durably. The edge answers 2xx
 * right after, so an acknowledged event is on the Queue. If a sendBatch
 * fails after an earlier one succeeded, the client gets a 503 and retries
 * the whole request; the duplicates are removed downstream by messageId.
 */
import type { EnrichedEvent } from '../../shared/event.ts';
import type { EventSink, SinkReadiness } from '../sink/event-sink.ts';
import {
  groupSendBatches,
  packMessages,
  type QueuedEvents,
  type QueuePackingLimits,
} from './queue-message.ts';
import type { AcceptRoute } from './region-table.ts';

export interface QueueSinkOptions {
  queue: Queue<QueuedEvents>;
  /** The route of the request being served (request-route.ts). */
  currentRoute: () => AcceptRoute;
  limits: QueuePackingLimits;
}

export class QueueSink implements EventSink {
  readonly #options: QueueSinkOptions;

  constructor(options: QueueSinkOptions) {
    this.#options = options;
  }

  async accept(events: EnrichedEvent[]): Promise<void> {
    const { queue, currentRoute, limits } = this.#options;
    const batches = groupSendBatches(packMessages(events, currentRoute(), limits), limits);
    await Promise.all(
      batches.map((batch) =>
        queue.sendBatch(batch.map((m) => ({ body: m.body, contentType: 'json' as const }))),
      ),
    );
  }

  readiness(): SinkReadiness {
    // A binding has no health probe; a failing sendBatch becomes a 503 per request.
    return { ready: true, detail: { sink: 'cloudflare-queue' } };
  }
}
