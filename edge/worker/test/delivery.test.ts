/**
 * Integration through the whole Worker: SELF.fetch → the real Cloudflare
 * Queue (Miniflare's) → the Worker's real queue consumer → the real Node
 * relays of global-setup.ts, read back from their buses. The queue delivers
 * asynchronously, so each test waits until its events have arrived.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import type { EnrichedEvent } from '../../../shared/event.ts';
import { TEST_PROJECT, TEST_WRITE_KEY } from './relay-fixture.ts';
import { basic, relayedEvents } from './worker-test-kit.ts';

const ARRIVAL = { timeout: 30_000, interval: 100 };

async function send(
  path: string,
  body: unknown,
  cf: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await SELF.fetch(`https://edge.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', authorization: basic(TEST_WRITE_KEY), ...headers },
    body: JSON.stringify(body),
    cf,
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** Waits until the region's relay holds every id, then returns those events. */
async function arrived(region: 'eu' | 'us', ids: string[]): Promise<EnrichedEvent[]> {
  return vi.waitFor(async () => {
    const events = (await relayedEvents(region)).filter((e) => ids.includes(e.messageId));
    expect(events.map((e) => e.messageId).sort()).toEqual([...ids].sort());
    return events;
  }, ARRIVAL);
}

interface RoutedEvent {
  title: string;
  path: string;
  event: { messageId: string } & Record<string, unknown>;
  cf: Record<string, string>;
  arrivesIn: 'eu' | 'us';
  matches: Record<string, unknown>;
  absentFrom?: 'eu' | 'us';
}

describe('accepted events reach the regional Node relay', () => {
  it('relays a European visitor’s batch to eu, enriched and otherwise unchanged', async () => {
    const batch = [0, 1, 2].map((i) => ({
      type: 'track',
      event: 'Checkout Started',
      anonymousId: `anon-${i}`,
      messageId: `delivery-eu-${i}`,
      timestamp: '2026-03-01T11:59:58.000Z',
      properties: { cart: { items: i, currency: 'EUR' }, tags: ['a', 'b'] },
    }));
    await send(
      '/v1/batch',
      { batch },
      { continent: 'EU', colo: 'CDG', country: 'FR' },
      {
        'cf-connecting-ip': '198.51.100.23',
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
      },
    );

    const events = await arrived(
      'eu',
      batch.map((e) => e.messageId),
    );
    for (const sent of batch) {
      const got = events.find((e) => e.messageId === sent.messageId)!;
      expect(got).toMatchObject({
        type: 'track',
        event: sent.event,
        anonymousId: sent.anonymousId,
        properties: sent.properties,
        projectId: TEST_PROJECT.id,
      });
      expect(got.enrichment?.country).toBe('FR');
      expect(got.enrichment?.ipHash).toMatch(/^[0-9a-f]{16}$/);
      expect(got.enrichment?.userAgent?.browser).toBe('Chrome');
      expect(Date.parse(got.receivedAt)).not.toBeNaN();
      expect(JSON.stringify(got)).not.toContain('198.51.100.23');
    }
  });

  // One event each, routed by the visitor's continent: the region whose relay must hold it, what it must
  // look like there, and a region it must not reach. AS → region ap, whose relay is a port with nothing
  // listening: ap fails over to us.
  it.each([
    {
      title: 'relays a North American visitor’s event to us',
      path: '/v1/track',
      event: { type: 'track', event: 'Signed Up', userId: 'na-1', messageId: 'delivery-us-0' },
      cf: { continent: 'NA', colo: 'IAD', country: 'US' },
      arrivesIn: 'us',
      matches: { type: 'track', event: 'Signed Up' },
      absentFrom: 'eu',
    },
    {
      title: 'fails over to the next region when the home region’s relay is down',
      path: '/v1/page',
      event: { type: 'page', name: 'Home', userId: 'as-1', messageId: 'delivery-failover-0' },
      cf: { continent: 'AS', colo: 'NRT', country: 'JP' },
      arrivesIn: 'us',
      matches: { type: 'page', name: 'Home', enrichment: { country: 'JP' } },
    },
  ] satisfies RoutedEvent[])('$title', async ({ path, event, cf, arrivesIn, matches, absentFrom }) => {
    await send(path, event, cf);
    const [got] = await arrived(arrivesIn, [event.messageId]);
    expect(got).toMatchObject(matches);
    if (absentFrom) {
      expect((await relayedEvents(absentFrom)).some((e) => e.messageId === event.messageId)).toBe(false);
    }
  });

  it('delivers every event of a batch that spans several queue messages', async () => {
    const batch = Array.from({ length: 25 }, (_, i) => ({
      type: 'track',
      event: 'Large',
      userId: `big-${i}`,
      messageId: `delivery-large-${i}`,
      properties: { blob: 'z'.repeat(18_000) },
    }));
    await send('/v1/batch', { batch }, { continent: 'EU' });
    const events = await arrived(
      'eu',
      batch.map((e) => e.messageId),
    );
    expect(events.map((e) => String(e.properties?.blob).length)).toEqual(batch.map(() => 18_000));
  });
});
