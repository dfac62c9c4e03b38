/**
 * @module What the Worker puts on the Cloudflare Queue: accepted events
 * with the route they were accepted on (so the consumer can pick the
 * visitor's region later), packed into messages and sendBatch calls that
 * stay under the Queue's limits: 128 KB a message, 100 messages and 256 KB
 * a sendBatch. One message is also the consumer's unit of acknowledgement,
 * so its events are relayed (and retried) together.
 */
import { z } from 'zod';
import { splitBatches } from '../../shared/batches.ts';
import { InputError } from '../../shared/errors.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { relayedEventSchema } from '../relay/relay-schema.ts';
import { serialiseEvent } from '../sink/serialise-event.ts';
import type { AcceptRoute } from './region-table.ts';

export const QUEUE_MESSAGE_VERSION = 1;

export interface QueuedEvents {
  v: typeof QUEUE_MESSAGE_VERSION;
  route: AcceptRoute;
  events: EnrichedEvent[];
}

/** The consumer checks bodies with the relay's own event schema: a bad one is a bug, kept for the DLQ. */
export const queuedEventsSchema = z.object({
  v: z.literal(QUEUE_MESSAGE_VERSION),
  route: z.object({
    continent: z.string().optional(),
    colo: z.string().optional(),
    country: z.string().optional(),
  }),
  events: z.array(relayedEventSchema).min(1),
});

export interface QueuePackingLimits {
  /** Serialised bytes of one message; Cloudflare's limit is 128 KB, minus room for framing. */
  maxMessageBytes: number;
  /** Messages in one sendBatch (Cloudflare: 100). */
  maxBatchMessages: number;
  /** Serialised bytes of one sendBatch (Cloudflare: 256 KB). */
  maxBatchBytes: number;
}

export const CLOUDFLARE_QUEUE_LIMITS: QueuePackingLimits = {
  maxMessageBytes: 120_000,
  maxBatchMessages: 100,
  maxBatchBytes: 250_000,
};

export interface PackedMessage {
  body: QueuedEvents;
  /** UTF-8 bytes of the body as JSON: what the Queue counts for contentType json. */
  bytes: number;
}

const encoder = new TextEncoder();
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

/**
 * Events to messages, in order, each under `maxMessageBytes`. An event that
 * cannot fit even alone is refused with a 413 (the edge's per-event limit,
 * checked at config load, normally makes this impossible).
 */
export function packMessages(
  events: readonly EnrichedEvent[],
  route: AcceptRoute,
  limits: QueuePackingLimits,
): PackedMessage[] {
  const empty: QueuedEvents = { v: QUEUE_MESSAGE_VERSION, route, events: [] };
  const overhead = jsonBytes(empty);
  const messages: PackedMessage[] = [];
  let current: EnrichedEvent[] = [];
  let bytes = overhead;
  const flush = () => {
    if (current.length === 0) return;
    messages.push({ body: { ...empty, events: current }, bytes });
    current = [];
    bytes = overhead;
  };
  for (const event of events) {
    // A 400 for this request if the event cannot be serialised, never a 503 from the queue (serialise-event.ts).
    const size = encoder.encode(serialiseEvent(event)).byteLength;
    if (overhead + size > limits.maxMessageBytes) {
      throw new InputError(`An event is too large for the queue (${size} bytes of JSON).`, {
        status: 413,
        code: 'event_too_large',
      });
    }
    // A comma goes before every event but a message's first.
    if (current.length > 0 && bytes + 1 + size > limits.maxMessageBytes) flush();
    bytes += (current.length > 0 ? 1 : 0) + size;
    current.push(event);
  }
  flush();
  return messages;
}

/** Messages to sendBatch calls, in order, each under the count and byte limits. */
export function groupSendBatches(
  messages: readonly PackedMessage[],
  limits: QueuePackingLimits,
): PackedMessage[][] {
  return splitBatches(messages, {
    maxCount: limits.maxBatchMessages,
    maxBytes: limits.maxBatchBytes,
    size: (message) => message.bytes,
  });
}
