/**
 * @module Pipeline step 3, validate: split a body into events and check each.
 * A bad event never sinks its batch: it is reported with its index and a
 * reason, and the valid ones go on. Only a body that is not a batch at all
 * fails the whole request.
 */
import type { z } from 'zod';
import { InputError } from '../../shared/errors.ts';
import type { EventType } from '../../shared/event.ts';
import { isRecord } from './authenticate.ts';
import { fastParseIncomingEvent, type IncomingEvent, incomingEventSchema } from './event-schema.ts';
import { payloadTooLarge } from './read-body.ts';

/** `batch` for /v1/batch and /v1/b; otherwise the call type the path names. */
export type EndpointKind = 'batch' | EventType;

export interface Rejection {
  index: number;
  reason: 'event_too_large' | 'invalid_event';
  message: string;
}

export interface ValidatedBatch {
  events: IncomingEvent[];
  rejected: Rejection[];
  /** Batch-level `sentAt`, used for events that carry none (analytics-node). */
  sentAt?: string;
}

export interface ValidateOptions {
  maxEventBytes: number;
  /** Decoded body size: when it fits in one event's limit, no event can be over. */
  bodyBytes: number;
  /**
   * Upper bounds on each batch event's JSON length in UTF-16 units, from the
   * parse step's scan (json-guard.ts): an event whose bound cannot reach the
   * limit is not serialised to be measured.
   */
  eventBounds?: readonly number[] | undefined;
}

export function validateEvents(body: unknown, kind: EndpointKind, options: ValidateOptions): ValidatedBatch {
  if (kind !== 'batch') return validateSingle(body, kind, options);
  if (!isRecord(body) || !Array.isArray(body.batch)) {
    throw new InputError('Body must be an object with a `batch` array of events.', {
      status: 400,
      code: 'invalid_batch',
    });
  }
  if (body.batch.length === 0) {
    throw new InputError('The batch is empty.', { status: 400, code: 'empty_batch' });
  }
  const sentAt = typeof body.sentAt === 'string' ? body.sentAt : undefined;
  const result: ValidatedBatch = { events: [], rejected: [], ...(sentAt ? { sentAt } : {}) };
  const checkSize = options.bodyBytes > options.maxEventBytes;
  const max = options.maxEventBytes;
  const bounds = options.eventBounds?.length === body.batch.length ? options.eventBounds : undefined;
  body.batch.forEach((raw: unknown, index: number) => {
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    const surelySmall = bounds !== undefined && bounds[index]! * 3 <= max;
    if (checkSize && !surelySmall && jsonBytes(raw, max) > max) {
      result.rejected.push({
        index,
        reason: 'event_too_large',
        message: `event is larger than ${options.maxEventBytes} bytes`,
      });
      return;
    }
    const fast = fastParseIncomingEvent(raw);
    if (fast) {
      result.events.push(fast);
      return;
    }
    const parsed = incomingEventSchema.safeParse(raw);
    if (parsed.success) result.events.push(parsed.data);
    else result.rejected.push({ index, reason: 'invalid_event', message: describe(parsed.error) });
  });
  return result;
}

function validateSingle(body: unknown, kind: EventType, options: ValidateOptions): ValidatedBatch {
  if (!isRecord(body)) {
    throw new InputError('Body must be a JSON object (one event).', { status: 400, code: 'invalid_event' });
  }
  if (
    options.bodyBytes > options.maxEventBytes &&
    jsonBytes(body, options.maxEventBytes) > options.maxEventBytes
  ) {
    throw payloadTooLarge(options.maxEventBytes, 'Event');
  }
  // The path names the call: /v1/track is a track whatever `type` says.
  const event = { ...body, type: kind };
  const fast = fastParseIncomingEvent(event);
  if (fast) return { events: [fast], rejected: [] };
  const parsed = incomingEventSchema.safeParse(event);
  if (parsed.success) return { events: [parsed.data], rejected: [] };
  return { events: [], rejected: [{ index: 0, reason: 'invalid_event', message: describe(parsed.error) }] };
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const encoder = new TextEncoder();

/** UTF-8 size of a value's JSON, as it will travel (or a bound, when that is enough to decide). */
export function jsonBytes(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  const text = JSON.stringify(value) ?? '';
  // A UTF-16 unit is at most 3 UTF-8 bytes: short texts need no encoding to be judged.
  if (text.length * 3 <= limit) return text.length;
  return encoder.encode(text).byteLength;
}
