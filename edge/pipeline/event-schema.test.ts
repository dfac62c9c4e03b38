import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../shared/event.ts';
import { fastParseIncomingEvent, type IncomingEvent, incomingEventSchema } from './event-schema.ts';

const FIELDS = [
  'type',
  'event',
  'name',
  'category',
  'channel',
  'messageId',
  'userId',
  'anonymousId',
  'groupId',
  'previousId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'integrations',
  'properties',
  'traits',
  'context',
] as const;

/** What the pipeline reads of a validated event (enrich-events.ts), absent and undefined alike. */
function fields(e: IncomingEvent): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map((f) => [f, e[f]]).filter(([, v]) => v !== undefined));
}

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom('', 'x', '0', 'a'.repeat(1025), 'a'.repeat(257)),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, -0, 1.5, 42, Number.NaN, Number.POSITIVE_INFINITY),
  fc.constantFrom(
    '2026-03-01T12:00:00Z',
    '2026-03-01T12:00:00.123456+01:00',
    '2026-03-01T13:00+0100',
    '2026-03-01T12:00:00',
    '2026-13-45T99:00:00Z',
  ),
  fc.constantFrom({}, { a: 1 }, [], [1], JSON.parse('{"__proto__":{"x":1},"b":2}'), { constructor: 'x' }),
  fc.boolean(),
);
/** Mostly valid values, so both answers are exercised: each field is now and then anything at all. */
const VALID: Record<(typeof FIELDS)[number], fc.Arbitrary<unknown>> = {
  type: fc.constantFrom(...EVENT_TYPES),
  event: fc.string({ maxLength: 5 }),
  name: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
  category: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
  channel: fc.constantFrom('browser', 'server', 'mobile', null),
  messageId: fc.string({ minLength: 1, maxLength: 5 }),
  userId: fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null)),
  anonymousId: fc.oneof(fc.string({ maxLength: 3 }), fc.double(), fc.constant(null)),
  groupId: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()),
  previousId: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()),
  timestamp: fc.constantFrom(
    '2026-03-01T12:00:00Z',
    '2026-03-01T12:00:00.123456+01:00',
    '2026-03-01T13:00+0100',
  ),
  originalTimestamp: fc.constantFrom('2026-03-01T11:59:58.000Z', '2026-03-01T12:00:00+0100'),
  sentAt: fc.constantFrom('2026-03-01T12:00:01.000Z', '2026-03-01T12:00:00-0500'),
  integrations: fc.constantFrom({}, { All: false, Mixpanel: true }),
  properties: fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  traits: fc.constantFrom({}, { plan: 'pro' }),
  context: fc.constantFrom({}, { ip: '1.2.3.4' }, { userAgent: 'x' }),
};
const eventArb = fc
  .record(
    Object.fromEntries(
      FIELDS.map((f) => [
        f,
        fc.oneof({ arbitrary: VALID[f], weight: 8 }, { arbitrary: anyValue, weight: 1 }),
      ]),
    ) as Record<(typeof FIELDS)[number], fc.Arbitrary<unknown>>,
    { requiredKeys: [] },
  )
  .chain((e) => fc.constantFrom(e, { ...e, extra: 1, writeKey: 'wk' }));

describe('fastParseIncomingEvent', () => {
  it('accepts only what zod accepts, with the same fields', () => {
    let fastAccepted = 0;
    let zodAccepted = 0;
    fc.assert(
      fc.property(eventArb, (raw) => {
        const fast = fastParseIncomingEvent(raw);
        const zod = incomingEventSchema.safeParse(raw);
        if (zod.success) zodAccepted++;
        if (fast === undefined) return;
        fastAccepted++;
        expect(zod.success).toBe(true);
        expect(fields(fast)).toEqual(fields(zod.data!));
        expect(JSON.stringify(fields(fast))).toBe(JSON.stringify(fields(zod.data!)));
      }),
      { numRuns: 5_000 },
    );
    // The fast path must actually take the common case.
    expect(fastAccepted).toBeGreaterThan(zodAccepted * 0.5);
  });

  it('takes an analytics.js event and leaves the unusual to zod', () => {
    const page = {
      type: 'page',
      anonymousId: 'a1',
      userId: 7,
      timestamp: '2026-03-01T12:00:00.000Z',
      properties: { path: '/' },
      context: { library: { name: 'analytics.js' } },
      writeKey: 'dropped',
    };
    expect(fastParseIncomingEvent(page)).toEqual({
      type: 'page',
      anonymousId: 'a1',
      userId: '7',
      timestamp: '2026-03-01T12:00:00.000Z',
      properties: { path: '/' },
      context: { library: { name: 'analytics.js' } },
    });
    expect(fastParseIncomingEvent({ ...page, groupId: null })).toBeUndefined();
    expect(fastParseIncomingEvent({ ...page, properties: JSON.parse('{"__proto__":1}') })).toBeUndefined();
    expect(fastParseIncomingEvent({ type: 'track', anonymousId: 'a' })).toBeUndefined();
  });
});
