// Over 300 lines: tests of the whole edge app, one describe per route and concern.
import { describe, expect, it } from 'vitest';
import { SinkUnavailableError } from './edge-errors.ts';
import { signRelayBody } from './relay/relay-signature.ts';
import {
  basic,
  gzip,
  makeEdge,
  OPEN_KEY,
  postJson,
  preflight,
  RELAY_SECRET,
  SHOP_KEY,
  START_MS,
  track,
} from './testing/edge-fixture.ts';

describe('collect endpoints', () => {
  it('accepts a batch with the key as HTTP Basic user and enriches every event', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(
      postJson(
        '/v1/batch',
        {
          batch: [
            track({ messageId: 'a' }),
            track({ messageId: 'b', userId: undefined, anonymousId: 'anon' }),
          ],
        },
        {
          authorization: basic(SHOP_KEY),
          'x-test-ip': '203.0.113.9',
          'cf-ipcountry': 'de',
          'user-agent':
            'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
        },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: 2, rejected: [] });
    expect(sink.events.map((e) => e.messageId)).toEqual(['a', 'b']);
    const [first] = sink.events;
    expect(first).toMatchObject({
      type: 'track',
      event: 'Order Completed',
      projectId: 'proj_shop',
      receivedAt: new Date(START_MS).toISOString(),
      enrichment: { country: 'DE', userAgent: { browser: 'Chrome', os: 'Windows', device: 'desktop' } },
    });
    expect(first?.enrichment?.ipHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(sink.events)).not.toContain('203.0.113.9');
  });

  it('serves every long and short path, typing the event by its path', async () => {
    const paths: Array<[string, string, Record<string, unknown>]> = [
      ['/v1/track', 'track', { event: 'E' }],
      ['/v1/t', 'track', { event: 'E' }],
      ['/v1/page', 'page', {}],
      ['/v1/p', 'page', {}],
      ['/v1/screen', 'screen', {}],
      ['/v1/s', 'screen', {}],
      ['/v1/identify', 'identify', { traits: { plan: 'pro' } }],
      ['/v1/i', 'identify', {}],
      ['/v1/group', 'group', { groupId: 'g1' }],
      ['/v1/g', 'group', { groupId: 'g1' }],
      ['/v1/alias', 'alias', { previousId: 'old' }],
      ['/v1/a', 'alias', { previousId: 'old' }],
    ];
    for (const [path, type, extra] of paths) {
      const { app, sink } = makeEdge();
      const res = await app.request(postJson(path, { userId: 'u', writeKey: OPEN_KEY, ...extra }));
      expect(res.status, path).toBe(200);
      expect(sink.events[0]?.type, path).toBe(type);
      expect(sink.events[0]).not.toHaveProperty('writeKey');
    }
  });

  it('takes the analytics.js beacon: text/plain body, key in the body, /v1/b', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(
      new Request('http://edge.test/v1/b', {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
        body: JSON.stringify({ writeKey: SHOP_KEY, batch: [track()], sentAt: '2026-03-01T11:59:59.500Z' }),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(sink.events).toHaveLength(1);
  });

  it('takes the key from ?writeKey= and a trailing slash', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(postJson(`/v1/track/?writeKey=${OPEN_KEY}`, track()));
    expect(res.status).toBe(200);
    expect(sink.events).toHaveLength(1);
  });

  it('decodes gzip and deflate bodies whatever the content type', async () => {
    const { app, sink } = makeEdge();
    const body = JSON.stringify({ batch: [track()] });
    const res = await app.request('/v1/batch', {
      method: 'POST',
      body: await gzip(body),
      headers: {
        authorization: basic(OPEN_KEY),
        'content-encoding': 'gzip',
        'content-type': 'application/x-whatever',
      },
    });
    expect(res.status).toBe(200);
    const deflated = new Uint8Array(
      await new Response(
        new Blob([body]).stream().pipeThrough(new CompressionStream('deflate')),
      ).arrayBuffer(),
    );
    const res2 = await app.request('/v1/batch', {
      method: 'POST',
      body: deflated,
      headers: { authorization: basic(OPEN_KEY), 'content-encoding': 'deflate' },
    });
    expect(res2.status).toBe(200);
    expect(sink.events).toHaveLength(2);
  });

  it('answers a GIF to the pixel with the event in base64url data', async () => {
    const { app, sink } = makeEdge();
    const json = new TextEncoder().encode(
      JSON.stringify({ ...track(), writeKey: OPEN_KEY, properties: { q: 'ü?&' } }),
    );
    const data = btoa(String.fromCharCode(...json))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    const res = await app.request(`/v1/p.gif?data=${data}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(new Uint8Array(await res.arrayBuffer()).slice(0, 3)).toEqual(new TextEncoder().encode('GIF'));
    expect(sink.events[0]?.properties).toEqual({ q: 'ü?&' });
  });
});

describe('errors', () => {
  it('401s an unknown or missing write key, as JSON', async () => {
    const { app } = makeEdge();
    const unknown = await app.request(
      postJson('/v1/track', track(), { authorization: basic('wk_nobody_000000') }),
    );
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: { code: 'invalid_write_key' } });
    const missing = await app.request(postJson('/v1/track', track()));
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'missing_write_key' } });
  });

  it('400s malformed JSON, an empty body and a body that is no batch', async () => {
    const { app } = makeEdge();
    const auth = { authorization: basic(OPEN_KEY) };
    for (const [body, code] of [
      ['{"batch": [', 'malformed_json'],
      ['', 'empty_body'],
      ['[1,2]', 'invalid_batch'],
      ['{"batch": []}', 'empty_batch'],
    ] as const) {
      const res = await app.request(postJson('/v1/batch', body, auth));
      expect(res.status, body).toBe(400);
      expect(await res.json(), body).toMatchObject({ error: { code } });
    }
  });

  it('accepts the valid events of a batch and lists the rejected ones with index and reason', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(
      postJson(
        '/v1/batch',
        {
          batch: [
            track({ messageId: 'ok1' }),
            { type: 'track', event: 'x' },
            'nope',
            track({ messageId: 'ok2' }),
          ],
        },
        { authorization: basic(OPEN_KEY) },
      ),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      accepted: number;
      rejected: Array<{ index: number; reason: string }>;
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => [r.index, r.reason])).toEqual([
      [1, 'invalid_event'],
      [2, 'invalid_event'],
    ]);
    expect(sink.events.map((e) => e.messageId)).toEqual(['ok1', 'ok2']);
  });

  it('400s a request whose every event is invalid, listing them', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(postJson('/v1/track', { event: 'x' }, { authorization: basic(OPEN_KEY) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'invalid_events' },
      rejected: [{ index: 0, reason: 'invalid_event', message: expect.stringContaining('anonymousId') }],
    });
    expect(sink.events).toHaveLength(0);
  });

  it('413s a body over the batch limit and a gzip bomb, and rejects an event over the event limit', async () => {
    const { app, deps } = makeEdge();
    const auth = { authorization: basic(OPEN_KEY) };
    const huge = JSON.stringify({ batch: [track({ properties: { pad: 'x'.repeat(600 * 1024) } })] });
    expect((await app.request(postJson('/v1/batch', huge, auth))).status).toBe(413);

    const bomb = await gzip(`{"batch":[${' '.repeat(50 * 1024 * 1024)}]}`);
    expect(bomb.byteLength).toBeLessThan(deps.limits.maxBatchBytes);
    const bombRes = await app.request('/v1/batch', {
      method: 'POST',
      body: bomb,
      headers: { ...auth, 'content-encoding': 'gzip' },
    });
    expect(bombRes.status).toBe(413);
    expect(await bombRes.json()).toMatchObject({ error: { code: 'payload_too_large' } });

    const big = track({ properties: { pad: 'x'.repeat(40 * 1024) } });
    const mixed = await app.request(postJson('/v1/batch', { batch: [big, track()] }, auth));
    expect(mixed.status).toBe(200);
    expect(await mixed.json()).toMatchObject({
      accepted: 1,
      rejected: [{ index: 0, reason: 'event_too_large' }],
    });
    expect((await app.request(postJson('/v1/track', big, auth))).status).toBe(413);
  });

  it('400s a body that does not match its encoding, 415s an unknown encoding', async () => {
    const { app } = makeEdge();
    const auth = { authorization: basic(OPEN_KEY) };
    const bad = await app.request('/v1/batch', {
      method: 'POST',
      body: 'not gzip at all',
      headers: { ...auth, 'content-encoding': 'gzip' },
    });
    expect(bad.status).toBe(400);
    const br = await app.request('/v1/batch', {
      method: 'POST',
      body: 'x',
      headers: { ...auth, 'content-encoding': 'br' },
    });
    expect(br.status).toBe(415);
  });

  it('404s unknown paths as JSON', async () => {
    const { app } = makeEdge();
    const res = await app.request('/v2/nothing');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers 503 with Retry-After when the sink cannot take events', async () => {
    const { app, sink } = makeEdge();
    sink.failWith = new SinkUnavailableError('spool full', { code: 'spool_full', retryAfterSeconds: 7 });
    const full = await app.request(postJson('/v1/track', track(), { authorization: basic(OPEN_KEY) }));
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('7');
    expect(await full.json()).toMatchObject({ error: { code: 'spool_full' } });
    sink.failWith = new Error('disk on fire');
    const other = await app.request(postJson('/v1/track', track(), { authorization: basic(OPEN_KEY) }));
    expect(other.status).toBe(503);
    expect(other.headers.get('retry-after')).toBe('5');
  });
});

describe('CORS', () => {
  it('answers a preflight for an allowed origin and refuses others', async () => {
    const { app } = makeEdge({
      projects: (await import('./project-registry.ts')).createStaticRegistry([
        { id: 'p', writeKeys: ['wk_only_shop_0000'], readKeys: [], allowedOrigins: ['https://shop.example'] },
      ]),
    });
    const ok = await app.request(preflight('https://shop.example'));
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Content-Type');
    const refused = await app.request(preflight('https://evil.example'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('403s events from an origin the project does not allow', async () => {
    const { app, sink } = makeEdge();
    const res = await app.request(
      postJson('/v1/track', track(), { authorization: basic(SHOP_KEY), origin: 'https://evil.example' }),
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect(sink.events).toHaveLength(0);
  });
});

describe('rate limit', () => {
  it('429s with Retry-After once a key spends its burst, and refills with time', async () => {
    const { app, clock } = makeEdge();
    const auth = { authorization: basic(SHOP_KEY) };
    const batch = (n: number) => ({
      batch: Array.from({ length: n }, (_, i) => track({ messageId: `r${i}` })),
    });
    expect((await app.request(postJson('/v1/batch', batch(50), auth))).status).toBe(200);
    const limited = await app.request(postJson('/v1/batch', batch(10), auth));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    // Other keys are not affected.
    expect(
      (await app.request(postJson('/v1/track', track(), { authorization: basic(OPEN_KEY) }))).status,
    ).toBe(200);
    clock.advance(1000);
    expect((await app.request(postJson('/v1/batch', batch(10), auth))).status).toBe(200);
  });
});

describe('relay', () => {
  const relayed = {
    events: [
      {
        type: 'track',
        event: 'E',
        messageId: 'relayed-1',
        userId: 'u',
        timestamp: '2026-03-01T11:59:59.000Z',
        receivedAt: '2026-03-01T12:00:00.000Z',
        projectId: 'proj_shop',
        // Every field the edge adds survives the relay (the Worker's bot flag included).
        enrichment: { country: 'FR', ipHash: 'abcd', userAgent: { browser: 'curl' }, bot: true },
      },
    ],
  };

  it('takes a correctly signed batch as is', async () => {
    const { app, sink } = makeEdge();
    const body = JSON.stringify(relayed);
    const headers = await signRelayBody(RELAY_SECRET, body, Math.floor(START_MS / 1000));
    const res = await app.request('/v1/relay', { method: 'POST', body, headers });
    expect(res.status).toBe(200);
    expect(sink.events).toEqual(relayed.events);
  });

  it('401s a forged, stale or unsigned batch', async () => {
    const { app, sink } = makeEdge();
    const body = JSON.stringify(relayed);
    const now = Math.floor(START_MS / 1000);
    const forged = await signRelayBody('not-the-secret-0123456789', body, now);
    const stale = await signRelayBody(RELAY_SECRET, body, now - 3600);
    const tampered = await signRelayBody(RELAY_SECRET, body.replace('relayed-1', 'relayed-2'), now);
    for (const headers of [forged, stale, tampered, {}]) {
      const res = await app.request('/v1/relay', { method: 'POST', body, headers });
      expect(res.status).toBe(401);
    }
    expect(sink.events).toHaveLength(0);
  });

  it('refuses a batch whose timestamps do not parse or whose event is too large', async () => {
    const { app, sink } = makeEdge();
    const now = Math.floor(START_MS / 1000);
    const send = async (events: unknown[]) => {
      const body = JSON.stringify({ events });
      return app.request('/v1/relay', {
        method: 'POST',
        body,
        headers: await signRelayBody(RELAY_SECRET, body, now),
      });
    };
    const [base] = relayed.events;
    expect((await send([{ ...base, receivedAt: 'soon' }])).status).toBe(400);
    expect((await send([{ ...base, properties: { pad: 'x'.repeat(40 * 1024) } }])).status).toBe(413);
    expect(sink.events).toHaveLength(0);
  });

  it('is absent without a relay secret', async () => {
    const { app } = makeEdge({ relaySecret: undefined });
    expect((await app.request('/v1/relay', { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('operations', () => {
  it('serves healthz, readyz from the sink, and no metrics without a backend', async () => {
    const { app, sink } = makeEdge();
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    sink.failWith = new Error('down');
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/metrics')).status).toBe(404);
  });
});
