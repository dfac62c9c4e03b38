/**
 * Producer, through the Worker's own fetch handler (SELF) in workerd: what
 * the public API answers and what it puts on the Cloudflare Queue.
 */
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QueuedEvents } from '../queue-message.ts';
import { TEST_WRITE_KEY } from './relay-fixture.ts';
import { basic } from './worker-test-kit.ts';

const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36';

function post(path: string, body: string, headers: Record<string, string> = {}, cf?: Record<string, string>) {
  return SELF.fetch(`https://edge.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    ...(cf ? { cf } : {}),
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('POST /v1/batch', () => {
  it('answers 200 once the events are on the queue, with the accept-time route', async () => {
    const sendBatch = vi.spyOn(env.EVENTS_QUEUE, 'sendBatch');
    const batch = [1, 2, 3].map((i) => ({
      type: 'track',
      event: 'Producer Test',
      userId: `producer-user-${i}`,
      messageId: `producer-batch-${i}`,
    }));
    const response = await post(
      '/v1/batch',
      JSON.stringify({ batch }),
      {
        authorization: basic(TEST_WRITE_KEY),
        'cf-connecting-ip': '203.0.113.7',
        'user-agent': ANDROID_CHROME,
      },
      { continent: 'EU', colo: 'FRA', country: 'DE' },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, accepted: 3, rejected: [] });

    const sent = sendBatch.mock.calls.flatMap(([messages]) => [...messages]);
    const bodies = sent.map((m) => m.body as QueuedEvents);
    expect(bodies.every((b) => b.route.continent === 'EU' && b.route.colo === 'FRA')).toBe(true);
    const events = bodies.flatMap((b) => b.events);
    expect(events.map((e) => e.messageId)).toEqual([
      'producer-batch-1',
      'producer-batch-2',
      'producer-batch-3',
    ]);
    for (const e of events) {
      expect(e.projectId).toBe('proj_worker_tests');
      expect(e.enrichment?.country).toBe('DE');
      expect(e.enrichment?.ipHash).toMatch(/^[0-9a-f]{16}$/);
      expect(JSON.stringify(e)).not.toContain('203.0.113.7');
      // The user-agent parser runs in workerd too (the Worker bundles the same one).
      expect(e.enrichment?.userAgent).toEqual({
        browser: 'Chrome',
        browserVersion: '120.0.6099.144',
        os: 'Android',
        device: 'mobile',
      });
    }
  });
});

describe('bad input: a 4xx JSON answer, nothing on the queue', () => {
  const cases: {
    name: string;
    path: string;
    body: string;
    headers?: Record<string, string>;
    status: number;
    code: string;
  }[] = [
    {
      name: 'malformed JSON',
      path: '/v1/batch',
      body: '{"batch": [',
      headers: { authorization: basic(TEST_WRITE_KEY) },
      status: 400,
      code: 'malformed_json',
    },
    {
      name: 'an unknown write key',
      path: '/v1/track',
      body: JSON.stringify({ type: 'track', event: 'E', userId: 'u' }),
      headers: { authorization: basic('wk_nobody_0123456789') },
      status: 401,
      code: 'invalid_write_key',
    },
    {
      name: 'no write key at all',
      path: '/v1/track',
      body: JSON.stringify({ type: 'track', event: 'E', userId: 'u' }),
      status: 401,
      code: 'missing_write_key',
    },
    {
      name: 'no valid event',
      path: '/v1/batch',
      body: JSON.stringify({ batch: [{ type: 'track', event: 'E' }] }),
      headers: { authorization: basic(TEST_WRITE_KEY) },
      status: 400,
      code: 'invalid_events',
    },
    {
      name: 'a body over the batch limit',
      path: '/v1/batch',
      body: JSON.stringify({
        batch: [{ type: 'track', event: 'E', userId: 'u', properties: { x: 'y'.repeat(600_000) } }],
      }),
      headers: { authorization: basic(TEST_WRITE_KEY) },
      status: 413,
      code: 'payload_too_large',
    },
    {
      // Past ~5,000 levels JSON.stringify overflows the stack (a 500 before the depth limit).
      name: 'properties nested 10,000 objects deep',
      path: '/v1/track',
      body: `{"type":"track","event":"E","userId":"u","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      headers: { authorization: basic(TEST_WRITE_KEY) },
      status: 400,
      code: 'too_deep',
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} to ${c.name}`, async () => {
      const sendBatch = vi.spyOn(env.EVENTS_QUEUE, 'sendBatch');
      const response = await post(c.path, c.body, c.headers);
      expect(response.status).toBe(c.status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(c.code);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(sendBatch).not.toHaveBeenCalled();
    });
  }

  it('queues the valid events of a batch and lists the rejected ones by index', async () => {
    const sendBatch = vi.spyOn(env.EVENTS_QUEUE, 'sendBatch');
    const batch = [
      { type: 'track', event: 'Ok', userId: 'u', messageId: 'producer-mixed-0' },
      { type: 'track', event: 'No user' },
      { type: 'nonsense', userId: 'u' },
    ];
    const response = await post('/v1/batch', JSON.stringify({ batch }), {
      authorization: basic(TEST_WRITE_KEY),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { accepted: number; rejected: { index: number }[] };
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2]);
    const queuedIds = sendBatch.mock.calls.flatMap(([m]) =>
      [...m].flatMap((x) => (x.body as QueuedEvents).events),
    );
    expect(queuedIds.map((e) => e.messageId)).toEqual(['producer-mixed-0']);
  });

  it('repairs lone surrogates to U+FFFD before the queue, in keys and values', async () => {
    const sendBatch = vi.spyOn(env.EVENTS_QUEUE, 'sendBatch');
    const body = String.raw`{"batch":[{"type":"track","event":"\udbff","userId":"u","messageId":"producer-lone","properties":{"k\ud800":["\udc00"]}}]}`;
    const response = await post('/v1/batch', body, { authorization: basic(TEST_WRITE_KEY) });
    expect(response.status).toBe(200);
    const [queued] = sendBatch.mock.calls.flatMap(([m]) =>
      [...m].flatMap((x) => (x.body as QueuedEvents).events),
    );
    expect(queued).toMatchObject({ event: '\ufffd', properties: { 'k\ufffd': ['\ufffd'] } });
  });

  it('answers 503 with Retry-After, not 2xx, when the queue refuses the events', async () => {
    vi.spyOn(env.EVENTS_QUEUE, 'sendBatch').mockRejectedValue(new Error('Queue send failed: internal error'));
    const response = await post('/v1/track', JSON.stringify({ type: 'track', event: 'E', userId: 'u' }), {
      authorization: basic(TEST_WRITE_KEY),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('sink_unavailable');
  });
});

describe('large batches', () => {
  it('splits a batch near the 500 KB limit into queue messages under 128 KB, in order', async () => {
    const sendBatch = vi.spyOn(env.EVENTS_QUEUE, 'sendBatch');
    const batch = Array.from({ length: 30 }, (_, i) => ({
      type: 'track',
      event: 'Large',
      userId: `large-${i}`,
      messageId: `producer-large-${String(i).padStart(2, '0')}`,
      properties: { blob: 'x'.repeat(15_000) },
    }));
    const response = await post('/v1/batch', JSON.stringify({ batch }), {
      authorization: basic(TEST_WRITE_KEY),
    });
    expect(response.status).toBe(200);

    const messages = sendBatch.mock.calls.flatMap(([m]) => [...m]);
    expect(messages.length).toBeGreaterThan(3);
    for (const m of messages)
      expect(new TextEncoder().encode(JSON.stringify(m.body)).byteLength).toBeLessThan(128_000);
    const ids = messages.flatMap((m) => (m.body as QueuedEvents).events.map((e) => e.messageId));
    expect(ids).toEqual(batch.map((e) => e.messageId));
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await SELF.fetch('https://edge.test/healthz')).status).toBe(200);
    const ready = await SELF.fetch('https://edge.test/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', sink: 'cloudflare-queue' });
  });

  it('does not serve POST /v1/relay (only the Node relays take relay batches)', async () => {
    const response = await post('/v1/relay', JSON.stringify({ events: [] }));
    expect(response.status).toBe(404);
  });
});
