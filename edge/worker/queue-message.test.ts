import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import {
  CLOUDFLARE_QUEUE_LIMITS,
  groupSendBatches,
  packMessages,
  type QueuePackingLimits,
} from './queue-message.ts';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

function event(i: number, padding: number): EnrichedEvent {
  return {
    type: 'track',
    event: 'E',
    messageId: `m-${i}`,
    userId: `u-${i}`,
    timestamp: '2026-03-01T12:00:00.000Z',
    receivedAt: '2026-03-01T12:00:00.000Z',
    projectId: 'p',
    // Multi-byte characters: the limits are in UTF-8 bytes, not string length.
    properties: { pad: 'é'.repeat(padding) },
  };
}

const route = { continent: 'EU', colo: 'FRA', country: 'DE' };

describe('packMessages and groupSendBatches', () => {
  it('keep every event, in order, in messages and sendBatch calls within the limits (seeded property)', () => {
    const limits: QueuePackingLimits = { maxMessageBytes: 4_000, maxBatchMessages: 3, maxBatchBytes: 9_000 };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_700 }), { maxLength: 60 }), (paddings) => {
        const events = paddings.map((p, i) => event(i, p));
        const messages = packMessages(events, route, limits);
        for (const m of messages) {
          expect(m.bytes).toBe(bytes(m.body));
          expect(m.bytes).toBeLessThanOrEqual(limits.maxMessageBytes);
          expect(m.body.route).toEqual(route);
          expect(m.body.events.length).toBeGreaterThan(0);
        }
        const batches = groupSendBatches(messages, limits);
        for (const b of batches) {
          expect(b.length).toBeLessThanOrEqual(limits.maxBatchMessages);
          // A lone message may exceed the batch budget only if it could not be split further.
          if (b.length > 1)
            expect(b.reduce((n, m) => n + m.bytes, 0)).toBeLessThanOrEqual(limits.maxBatchBytes);
        }
        const out = batches.flatMap((b) => b.flatMap((m) => m.body.events.map((e) => e.messageId)));
        expect(out).toEqual(events.map((e) => e.messageId));
      }),
      { seed: 20261125, numRuns: 200 },
    );
  });

  it('packs a full Segment batch (500 KB) into sendBatch calls Cloudflare takes', () => {
    const events = Array.from({ length: 100 }, (_, i) => event(i, 2_400));
    const batches = groupSendBatches(
      packMessages(events, route, CLOUDFLARE_QUEUE_LIMITS),
      CLOUDFLARE_QUEUE_LIMITS,
    );
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(100);
      expect(b.reduce((n, m) => n + m.bytes, 0)).toBeLessThanOrEqual(256_000);
      for (const m of b) expect(m.bytes).toBeLessThanOrEqual(128_000);
    }
  });

  it('refuses with a 413 an event that cannot fit a message on its own', () => {
    const limits: QueuePackingLimits = {
      maxMessageBytes: 1_000,
      maxBatchMessages: 100,
      maxBatchBytes: 10_000,
    };
    const attempt = () => packMessages([event(0, 10), event(1, 2_000)], route, limits);
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(expect.objectContaining({ status: 413, code: 'event_too_large' }));
  });

  it('makes no message of no events', () => {
    expect(packMessages([], route, CLOUDFLARE_QUEUE_LIMITS)).toEqual([]);
  });
});
