import { describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../../shared/event.ts';
import { EVENTS_COLUMNS } from '../../shared/warehouse.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { eventName, isoToMicros, toEventRow } from './map-event.ts';

const base: EnrichedEvent = {
  type: 'track',
  event: 'Order Completed',
  messageId: 'm-1',
  anonymousId: 'a-1',
  projectId: 'p1',
  timestamp: '2026-11-25T09:15:00.123Z',
  receivedAt: '2026-11-25T09:15:01.456789Z',
};

describe('toEventRow', () => {
  it('has exactly the columns of the events table, in order', () => {
    expect(Object.keys(toEventRow(base, 0))).toEqual(EVENTS_COLUMNS.map((c) => c.name));
  });

  it('keeps timestamps as exact microseconds, sub-millisecond digits included', () => {
    const row = toEventRow(base, 0);
    expect(row.event_time).toBe(Date.UTC(2026, 10, 25, 9, 15, 0, 123) * 1000);
    expect(row.received_at).toBe(Date.UTC(2026, 10, 25, 9, 15, 1, 456) * 1000 + 789);
    expect(row.sent_at).toBeNull();
    expect(isoToMicros('2026-11-25T10:15:00.5+01:00')).toBe(Date.UTC(2026, 10, 25, 9, 15, 0, 500) * 1000);
  });

  it('takes event_time from the edge’s eventTime and keeps the client’s own times beside it', () => {
    const row = toEventRow(
      {
        ...base,
        timestamp: '2026-11-25T10:15:00.000+01:00',
        originalTimestamp: '2026-11-25T09:14:59.000Z',
        eventTime: '2026-11-25T09:14:58.000Z',
      },
      0,
    );
    expect(row.event_time).toBe(Date.UTC(2026, 10, 25, 9, 14, 58) * 1000);
    expect(row.client_timestamp).toBe(Date.UTC(2026, 10, 25, 9, 15, 0) * 1000);
    expect(row.original_timestamp).toBe(Date.UTC(2026, 10, 25, 9, 14, 59) * 1000);
    // A message from before eventTime existed carried the corrected time in timestamp.
    expect(toEventRow(base, 0).event_time).toBe(Date.UTC(2026, 10, 25, 9, 15, 0, 123) * 1000);
    expect(toEventRow(base, 0).original_timestamp).toBeNull();
  });

  it('keeps the spec’s other fields: name, category, group and previous ids, channel, integrations', () => {
    const page = toEventRow(
      {
        ...base,
        type: 'page',
        name: 'Pricing',
        category: 'Docs',
        channel: 'web',
        integrations: { All: false },
      },
      0,
    );
    expect(page).toMatchObject({
      name: 'Pricing',
      category: 'Docs',
      channel: 'web',
      integrations: '{"All":false}',
      group_id: null,
      previous_id: null,
    });
    expect(toEventRow({ ...base, type: 'group', groupId: 'g-1' }, 0).group_id).toBe('g-1');
    expect(toEventRow({ ...base, type: 'alias', previousId: 'old' }, 0).previous_id).toBe('old');
  });

  it('falls back to the bus timestamp when receivedAt is unusable, and to receivedAt for event time', () => {
    const row = toEventRow({ ...base, receivedAt: 'yesterday', timestamp: 'soon' }, 1_700_000_000_000);
    expect(row.received_at).toBe(1_700_000_000_000_000);
    expect(row.event_time).toBe(row.received_at);
  });

  it('names events: track by name, others by $type', () => {
    expect(eventName({ type: 'track', event: 'Signed Up' })).toBe('Signed Up');
    expect(eventName({ type: 'page', name: 'Home' })).toBe('$pageview');
    expect(eventName({ type: 'screen' })).toBe('$screen');
    expect(eventName({ type: 'identify' })).toBe('$identify');
  });

  it('counts a visitor by userId when known, else anonymousId', () => {
    expect(toEventRow({ ...base, userId: 'u-9' }, 0).visitor_id).toBe('u-9');
    expect(toEventRow({ ...base, userId: null }, 0).visitor_id).toBe('a-1');
  });

  it('takes page fields from a page call’s properties, and UTM from context.campaign or the URL', () => {
    const page = toEventRow(
      {
        ...base,
        type: 'page',
        properties: {
          path: '/pricing',
          url: 'https://shop.example/pricing?utm_source=news&utm_campaign=w',
          title: 'Pricing',
          referrer: 'https://www.google.com/search?q=x',
        },
        context: { page: { path: '/ignored' } },
      },
      0,
    );
    expect(page).toMatchObject({
      event: '$pageview',
      page_path: '/pricing',
      page_title: 'Pricing',
      referrer_host: 'www.google.com',
      utm_source: 'news',
      utm_medium: null,
      utm_campaign: 'w',
    });
    const track = toEventRow(
      {
        ...base,
        context: {
          page: { url: 'https://x.example/a/b' },
          campaign: { source: 'tw', medium: 'social', name: 'c1' },
        },
      },
      0,
    );
    expect(track).toMatchObject({
      page_path: '/a/b',
      utm_source: 'tw',
      utm_medium: 'social',
      utm_campaign: 'c1',
    });
  });

  it('stores nested objects as JSON strings and enrichment as columns', () => {
    const row = toEventRow(
      {
        ...base,
        properties: { price: 9.5, tags: ['a'], nested: { deep: true } },
        traits: { plan: 'pro' },
        enrichment: {
          ipHash: 'h',
          country: 'DE',
          userAgent: { browser: 'Firefox', os: 'Linux', device: 'desktop' },
          bot: true,
        },
      },
      0,
    );
    expect(JSON.parse(row.properties ?? '')).toEqual({ price: 9.5, tags: ['a'], nested: { deep: true } });
    expect(row.traits).toBe('{"plan":"pro"}');
    expect(row.context).toBeNull();
    expect(row).toMatchObject({
      country: 'DE',
      browser: 'Firefox',
      os: 'Linux',
      device: 'desktop',
      ip_hash: 'h',
      is_bot: true,
    });
  });

  it('never throws on odd but valid JSON (numbers as ids, arrays where objects were expected, bad URLs)', () => {
    const odd = {
      ...base,
      userId: 42 as unknown as string,
      properties: [1, 2] as unknown as Record<string, unknown>,
      context: { page: 'nope', campaign: null, sessionId: 7 },
    } as EnrichedEvent;
    const row = toEventRow({ ...odd, type: 'page', properties: { url: 'not a url', referrer: '::' } }, 0);
    expect(row.user_id).toBe('42');
    expect(row.session_id).toBe('7');
    expect(row.page_path).toBeNull();
    expect(row.referrer_host).toBeNull();
  });

  it('maps every synthetic event (seeded) without loss of the message id', () => {
    const ids = new Set<string>();
    for (const e of syntheticEvents(2000, { seed: 7, startMs: Date.UTC(2026, 0, 1), spanMs: 3_600_000 })) {
      const row = toEventRow(e, 0);
      ids.add(row.message_id);
      expect(row.project_id).toMatch(/^p\d{4}$/);
    }
    expect(ids.size).toBe(2000);
  });
});
