/**
 * @module fast-check arbitraries for whole HTTP requests to the edge: random
 * paths and methods, bodies (JSON-ish, events, garbage bytes, huge),
 * content types, encodings (sometimes lying) and auth headers. Shared by the
 * unit fuzz (app.request) and the integration fuzz (real HTTP).
 */

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | undefined;
}

const PATHS = [
  '/v1/batch',
  '/v1/b',
  '/v1/track',
  '/v1/t',
  '/v1/page',
  '/v1/p',
  '/v1/identify',
  '/v1/i',
  '/v1/group',
  '/v1/alias',
  '/v1/screen',
  '/v1/relay',
  '/v1/p.gif',
  '/healthz',
  '/readyz',
  '/v1/nope',
  '/',
];

const jsonish = fc.jsonValue({ maxDepth: 4 });
const recentIso = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

function eventArb(writeKeys: readonly string[]) {
  return fc.record(
    {
      type: fc.oneof(fc.constantFrom('track', 'page', 'screen', 'identify', 'group', 'alias'), fc.string()),
      event: fc.oneof(fc.string(), fc.integer()),
      userId: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.double()),
      anonymousId: fc.string(),
      messageId: fc.oneof(fc.string(), fc.uuid()),
      timestamp: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
        fc.constant('9999-12-31T23:59:59.999+1400'),
      ),
      sentAt: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      properties: fc.oneof(fc.dictionary(fc.string(), jsonish), jsonish),
      context: fc.oneof(
        fc.record(
          { ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), userAgent: fc.string() },
          { requiredKeys: [] },
        ),
        jsonish,
      ),
      writeKey: fc.constantFrom(...writeKeys, 'wk_unknown_000000'),
      groupId: fc.string(),
      previousId: fc.string(),
    },
    { requiredKeys: [] },
  );
}

/** Events that should pass validation, so the fuzz reaches enrichment and the sink too. */
function plausibleEventArb(writeKeys: readonly string[]) {
  return fc.record({
    type: fc.constantFrom('track', 'page', 'identify'),
    event: fc.string({ minLength: 1 }),
    userId: fc.oneof(fc.string({ minLength: 1 }), fc.integer()),
    timestamp: recentIso,
    sentAt: recentIso,
    properties: fc.dictionary(fc.string(), jsonish),
    context: fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6()), userAgent: fc.string() }, { requiredKeys: [] }),
    writeKey: fc.constantFrom(...writeKeys),
  });
}

function bodyValue(writeKeys: readonly string[]) {
  const anyEvent = fc.oneof(
    { weight: 3, arbitrary: plausibleEventArb(writeKeys) },
    { weight: 2, arbitrary: eventArb(writeKeys) },
    { weight: 1, arbitrary: jsonish },
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record(
        { batch: fc.array(anyEvent, { maxLength: 30 }), sentAt: fc.string() },
        { requiredKeys: ['batch'] },
      ),
    },
    { weight: 3, arbitrary: anyEvent },
    { weight: 1, arbitrary: jsonish },
  );
}

const encoder = new TextEncoder();

function bodyBytes(writeKeys: readonly string[]) {
  return fc.oneof(
    { weight: 6, arbitrary: bodyValue(writeKeys).map((v) => encoder.encode(JSON.stringify(v) ?? 'null')) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 512 }).map((s) => encoder.encode(s)) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 1_200_000 })
        .map((n) => encoder.encode(`{"batch":[{"type":"track","event":"${'x'.repeat(n)}","userId":"u"}]}`)),
    },
  );
}

export function fuzzRequestArb(writeKeys: readonly string[]): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant('POST') },
        { weight: 2, arbitrary: fc.constantFrom('GET', 'OPTIONS', 'PUT', 'DELETE', 'HEAD') },
      ),
      path: fc.oneof(
        {
          weight: 8,
          arbitrary: fc.constantFrom('/v1/batch', '/v1/b', '/v1/track', '/v1/t', '/v1/page', '/v1/i'),
        },
        { weight: 2, arbitrary: fc.constantFrom(...PATHS) },
      ),
      query: fc.option(
        fc.oneof(
          fc.constantFrom(...writeKeys).map((k) => `writeKey=${k}`),
          fc.string().map((s) => `writeKey=${encodeURIComponent(s)}`),
          fc.base64String().map((s) => `data=${s}`),
          bodyValue(writeKeys).map(
            (v) => `data=${Buffer.from(JSON.stringify(v) ?? '').toString('base64url')}`,
          ),
        ),
      ),
      contentType: fc.option(
        fc.constantFrom(
          'application/json',
          'text/plain;charset=UTF-8',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'garbage/;;;',
        ),
      ),
      compress: fc.boolean(),
      // Most requests tell the truth about their encoding; some lie.
      lyingEncoding: fc.oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'gzip, gzip', 'x-gzip', 'zstd'),
        },
      ),
      auth: fc.option(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...writeKeys).map((k) => `Basic ${btoa(`${k}:`)}`) },
          { weight: 1, arbitrary: fc.string().map((s) => `Basic ${s}`) },
          { weight: 1, arbitrary: fc.string() },
        ),
        { freq: 4 },
      ),
      origin: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('https://shop.example', 'https://evil.example', 'null') },
      ),
      body: bodyBytes(writeKeys),
    })
    .map((r) => {
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      const encoding = r.lyingEncoding ?? (r.compress ? 'gzip' : undefined);
      if (encoding) headers['content-encoding'] = encoding;
      if (r.auth) headers.authorization = r.auth.replace(/[^\t\x20-\x7e]/g, '');
      if (r.origin) headers.origin = r.origin;
      const withBody = r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'OPTIONS';
      // Sometimes the body really is gzip, sometimes the header lies.
      const bytes = r.compress ? new Uint8Array(gzipSync(r.body)) : new Uint8Array(r.body);
      return {
        method: r.method,
        path: r.query ? `${r.path}?${r.query}` : r.path,
        headers,
        body: withBody ? bytes : undefined,
      };
    });
}
