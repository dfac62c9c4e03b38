/**
 * JSON the warehouse cannot hold or that would overflow recursive code: lone
 * surrogates are repaired to U+FFFD on every path, NUL is kept, and bodies
 * nested deeper than `limits.maxDepth` are a 400 naming the limit, never a
 * 500 or a 503 (pipeline/json-guard.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openLocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import type { EnrichedEvent } from '../shared/event.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { signRelayBody } from './relay/relay-signature.ts';
import { DiskSpool } from './sink/disk-spool.ts';
import { KafkaOrSpoolSink } from './sink/kafka-or-spool-sink.ts';
import { basic, gzip, makeEdge, postJson, RELAY_SECRET, SHOP_KEY, START_MS } from './testing/edge-fixture.ts';

const auth = { authorization: basic(SHOP_KEY) };
const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** `{"a":{"a":…1…}}`, `levels` objects deep. */
const deepObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
/** `[[…]]`, `levels` arrays deep. */
const deepArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** A track event as JSON text whose `properties` is `value` (raw JSON). */
const eventWith = (value: string) => `{"type":"track","event":"E","anonymousId":"a","properties":${value}}`;

describe('lone surrogates', () => {
  // The issue's own request: valid JSON, not valid Unicode.
  const raw = String.raw`{"type":"track","event":"\udbff","anonymousId":"a","properties":{"k\udbff":["x\ud800y",{"deep\udc00":"\udfff"}],"fine":"😀"}}`;

  const expectRepaired = (event: EnrichedEvent | undefined) => {
    expect(event?.event).toBe('\ufffd');
    expect(event?.properties).toEqual({ 'k\ufffd': ['x\ufffdy', { 'deep\ufffd': '\ufffd' }], fine: '😀' });
    // What the loader receives: well-formed, so DuckDB takes it.
    expect(JSON.stringify(event).includes('\\ud')).toBe(false);
  };

  it('repairs them to U+FFFD in keys and values at any depth on /v1/track and /v1/batch', async () => {
    const { app, sink } = makeEdge();
    expect((await app.request(postJson('/v1/track', raw, auth))).status).toBe(200);
    expectRepaired(sink.events[0]);
    const batch = String.raw`{"batch":[${raw}],"sentAt":"2026-03-01T12:00:00.000Z\udbff"}`;
    expect((await app.request(postJson('/v1/batch', batch, auth))).status).toBe(200);
    expectRepaired(sink.events[1]);
  });

  it('repairs them in a text/plain beacon, a gzip body and the pixel', async () => {
    const { app, sink } = makeEdge();
    const beacon = new Request('http://edge.test/v1/b', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `{"writeKey":"${SHOP_KEY}","batch":[${raw}]}`,
    });
    expect((await app.request(beacon)).status).toBe(200);
    const gzipped = new Request('http://edge.test/v1/batch', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip', ...auth },
      body: await gzip(`{"batch":[${raw}]}`),
    });
    expect((await app.request(gzipped)).status).toBe(200);
    const pixel = await app.request(`/v1/p.gif?writeKey=${SHOP_KEY}&data=${b64url(raw)}`);
    expect(pixel.status).toBe(200);
    expect(sink.events).toHaveLength(3);
    for (const event of sink.events) expectRepaired(event);
  });

  it('repairs them in a signed relay batch', async () => {
    const { app, sink } = makeEdge();
    const body = String.raw`{"events":[{"type":"track","event":"\udbff","messageId":"r1","userId":"u","projectId":"proj_shop","timestamp":"2026-03-01T11:59:59.000Z","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"\udc00":["\ud800"]}}]}`;
    const headers = await signRelayBody(RELAY_SECRET, body, Math.floor(START_MS / 1000));
    expect((await app.request('/v1/relay', { method: 'POST', body, headers })).status).toBe(200);
    expect(sink.events[0]).toMatchObject({ event: '\ufffd', properties: { '\ufffd': ['\ufffd'] } });
  });

  it('keeps NUL, which every store downstream holds, and keeps a __proto__ key an own key', async () => {
    const { app, sink } = makeEdge();
    const body = String.raw`{"type":"track","event":"a\u0000b","anonymousId":"a","properties":{"o":{"__proto__":{"x\udbff":1},"y\udbff":2}}}`;
    expect((await app.request(postJson('/v1/track', body, auth))).status).toBe(200);
    const [event] = sink.events;
    expect(event?.event).toBe('a\u0000b');
    const o = (event?.properties as { o: object } | undefined)?.o;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(JSON.stringify(o)).toBe('{"__proto__":{"x\ufffd":1},"y\ufffd":2}');
  });
});

describe('nesting depth', () => {
  const { maxDepth } = DEFAULT_LIMITS;

  const expectTooDeep = async (res: Response) => {
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_deep');
    expect(body.error.message).toContain(`${maxDepth} levels`);
    expect(body.error.message).toContain('limits.maxDepth');
  };

  it('400s properties nested 10,000 objects deep (was a 500) on every public path', async () => {
    const { app, sink } = makeEdge();
    const event = eventWith(deepObjects(10_000));
    await expectTooDeep(await app.request(postJson('/v1/track', event, auth)));
    await expectTooDeep(await app.request(postJson('/v1/batch', `{"batch":[${event}]}`, auth)));
    const gzipped = new Request('http://edge.test/v1/batch', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip', ...auth },
      body: await gzip(`{"batch":[${event}]}`),
    });
    await expectTooDeep(await app.request(gzipped));
    const pixelEvent = eventWith(deepObjects(maxDepth));
    await expectTooDeep(await app.request(`/v1/p.gif?writeKey=${SHOP_KEY}&data=${b64url(pixelEvent)}`));
    expect(sink.events).toHaveLength(0);
  });

  it('accepts an event exactly maxDepth deep, in a batch and alone, and refuses one level more', async () => {
    const { app, sink } = makeEdge();
    // The event is level 1 and properties level 2: maxDepth - 1 objects in properties reach the limit.
    const fits = eventWith(deepObjects(maxDepth - 1));
    const over = eventWith(deepObjects(maxDepth));
    expect((await app.request(postJson('/v1/track', fits, auth))).status).toBe(200);
    expect((await app.request(postJson('/v1/batch', `{"batch":[${fits}]}`, auth))).status).toBe(200);
    await expectTooDeep(await app.request(postJson('/v1/track', over, auth)));
    await expectTooDeep(await app.request(postJson('/v1/batch', `{"batch":[${over}]}`, auth)));
    // Brackets inside strings are text, not nesting.
    const brackets = eventWith(`{"s":"${'['.repeat(5000)}"}`);
    expect((await app.request(postJson('/v1/track', brackets, auth))).status).toBe(200);
    expect(sink.events).toHaveLength(3);
  });

  it('takes the limit from limits.maxDepth', async () => {
    const { app } = makeEdge({ limits: { ...DEFAULT_LIMITS, maxDepth: 8 } });
    expect((await app.request(postJson('/v1/track', eventWith(deepObjects(7)), auth))).status).toBe(200);
    const res = await app.request(postJson('/v1/track', eventWith(deepObjects(8)), auth));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('8 levels');
  });

  it('400s a signed relay batch nested too deep', async () => {
    const { app, sink } = makeEdge();
    const body = `{"events":[{"type":"track","event":"E","messageId":"r1","userId":"u","projectId":"proj_shop","timestamp":"2026-03-01T11:59:59.000Z","receivedAt":"2026-03-01T12:00:00.000Z","properties":${deepArrays(5000)}}]}`;
    const headers = await signRelayBody(RELAY_SECRET, body, Math.floor(START_MS / 1000));
    await expectTooDeep(await app.request('/v1/relay', { method: 'POST', body, headers }));
    expect(sink.events).toHaveLength(0);
  });

  it('400s arrays 5,000 deep over the real Node sink (was a 503 sink_unavailable with Retry-After)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-deep-'));
    const logger = pino({ level: 'silent' });
    const bus = await openLocalLogBus({ dir: join(dir, 'bus'), fsync: 'never' });
    await bus.ensureTopic('events', 1);
    const spool = await DiskSpool.open({
      dir: join(dir, 'spool'),
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      fullRetryAfterSeconds: 3,
      logger,
    });
    const sink = new KafkaOrSpoolSink({
      bus,
      topic: 'events',
      spool,
      logger,
      produceTimeoutMs: 1000,
      drainTimeoutMs: 1000,
      maxBatchMessages: 100,
      maxBatchBytes: 1024 * 1024,
      maxInFlight: 1,
      drainBackoff: { minMs: 5, maxMs: 20 },
    });
    sink.start();
    try {
      const { app } = makeEdge({ sink });
      const res = await app.request(postJson('/v1/track', eventWith(deepArrays(5000)), auth));
      expect(res.headers.get('retry-after')).toBeNull();
      await expectTooDeep(res);
      // The sink is fine and still takes events.
      expect((await app.request(postJson('/v1/track', eventWith('{}'), auth))).status).toBe(200);
    } finally {
      await sink.close(100);
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
