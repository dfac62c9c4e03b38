/**
 * CORS on the collect endpoints, through the app: what a page on an allowed
 * origin can read (the tracker's fetch path, edge/tracker/README.md).
 */
import { describe, expect, it } from 'vitest';
import { SinkUnavailableError } from './edge-errors.ts';
import { createStaticRegistry } from './project-registry.ts';
import {
  basic,
  makeEdge,
  OPEN,
  OPEN_KEY,
  postJson,
  preflight,
  SHOP,
  SHOP_KEY,
  track,
} from './testing/edge-fixture.ts';

const SHOP_ORIGIN = 'https://shop.example';

function expectGranted(res: Response, origin = SHOP_ORIGIN) {
  expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After');
  expect(res.headers.get('vary')).toMatch(/origin/i);
}

function expectNotGranted(res: Response) {
  expect(res.headers.get('access-control-allow-origin')).toBeNull();
  expect(res.headers.get('access-control-expose-headers')).toBeNull();
}

describe('CORS on the collect endpoints', () => {
  it('lets an allowed origin read Retry-After on a 429 and a 503, and on a 200', async () => {
    const { app, sink } = makeEdge();
    const headers = { authorization: basic(SHOP_KEY), origin: SHOP_ORIGIN };
    const ok = await app.request(postJson('/v1/track', track(), headers));
    expect(ok.status).toBe(200);
    expectGranted(ok);

    // SHOP's bucket holds 50 events: a batch of 60 is refused.
    const batch = { batch: Array.from({ length: 60 }, (_, i) => track({ messageId: `c${i}` })) };
    const limited = await app.request(postJson('/v1/batch', batch, headers));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expectGranted(limited);

    sink.failWith = new SinkUnavailableError('spool full', { code: 'spool_full', retryAfterSeconds: 7 });
    const full = await app.request(postJson('/v1/track', track(), headers));
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('7');
    expectGranted(full);
  });

  it('lets the page read errors found before the project is known (too large, malformed, unknown key)', async () => {
    const { app } = makeEdge({ projects: createStaticRegistry([SHOP]) });
    const origin = { origin: SHOP_ORIGIN };
    const tooLarge = await app.request(
      postJson('/v1/batch', { batch: [track({ properties: { pad: 'x'.repeat(600_000) } })] }, origin),
    );
    expect(tooLarge.status).toBe(413);
    expectGranted(tooLarge);

    const malformed = await app.request(postJson('/v1/batch', '{"batch": [', origin));
    expect(malformed.status).toBe(400);
    expectGranted(malformed);

    const unknownKey = await app.request(
      postJson('/v1/track', track(), { ...origin, authorization: basic('wk_nobody_0123456789') }),
    );
    expect(unknownKey.status).toBe(401);
    expectGranted(unknownKey);
  });

  it('grants nothing to an origin no project allows, even on an early error', async () => {
    const { app } = makeEdge({ projects: createStaticRegistry([SHOP]) });
    const res = await app.request(postJson('/v1/batch', '{"batch": [', { origin: 'https://evil.example' }));
    expect(res.status).toBe(400);
    expectNotGranted(res);
  });

  it('withdraws the provisional grant when the project refuses the origin', async () => {
    // OPEN allows any origin, so the request is granted provisionally until SHOP's key is read.
    const { app, sink } = makeEdge();
    const res = await app.request(
      postJson('/v1/track', track(), { authorization: basic(SHOP_KEY), origin: 'https://evil.example' }),
    );
    expect(res.status).toBe(403);
    expectNotGranted(res);
    expect(res.headers.get('vary')).toMatch(/origin/i);
    expect(sink.events).toHaveLength(0);
  });

  it('sets no CORS header for a request without an Origin (server SDKs)', async () => {
    const { app } = makeEdge();
    const res = await app.request(postJson('/v1/track', track(), { authorization: basic(OPEN_KEY) }));
    expect(res.status).toBe(200);
    expectNotGranted(res);
  });

  it('grants the pixel too', async () => {
    const { app } = makeEdge();
    const data = btoa(JSON.stringify({ ...track(), writeKey: OPEN_KEY })).replace(/=+$/, '');
    const res = await app.request(`/v1/p.gif?data=${data}`, { headers: { origin: 'https://any.example' } });
    expect(res.status).toBe(200);
    expectGranted(res, 'https://any.example');
  });
});

describe('CORS by explicit grant only', () => {
  const SERVER_ONLY = {
    id: 'server_only',
    writeKeys: ['wk_server_0123456789'],
    readKeys: [],
    allowedOrigins: [],
  };

  it('refuses every browser origin to a project that lists none, and still takes server requests', async () => {
    const { app, sink } = makeEdge({ projects: createStaticRegistry([SERVER_ONLY]) });
    const headers = { authorization: basic('wk_server_0123456789') };
    const browser = await app.request(
      postJson('/v1/track', track(), { ...headers, origin: 'https://any.example' }),
    );
    expect(browser.status).toBe(403);
    expectNotGranted(browser);
    const server = await app.request(postJson('/v1/track', track(), headers));
    expect(server.status).toBe(200);
    expect(sink.events).toHaveLength(1);
  });

  it('grants a keyless preflight only to an origin some project lists', async () => {
    const { app } = makeEdge({ projects: createStaticRegistry([SERVER_ONLY, SHOP]) });
    const listed = await app.request(preflight(SHOP_ORIGIN));
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    // A project with no origins no longer opens the preflight to every origin.
    const unlisted = await app.request(preflight('https://evil.example'));
    expect(unlisted.status).toBe(403);
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    const early = await app.request(postJson('/v1/batch', '{"batch": [', { origin: 'https://evil.example' }));
    expectNotGranted(early);
  });

  it('grants any origin to a project that opts in with "*"', async () => {
    const { app } = makeEdge({ projects: createStaticRegistry([SERVER_ONLY, OPEN]) });
    expect(
      (await app.request(preflight('https://any.example'))).headers.get('access-control-allow-origin'),
    ).toBe('https://any.example');
    const res = await app.request(
      postJson('/v1/track', track(), { authorization: basic(OPEN_KEY), origin: 'https://any.example' }),
    );
    expect(res.status).toBe(200);
    expectGranted(res, 'https://any.example');
  });
});
