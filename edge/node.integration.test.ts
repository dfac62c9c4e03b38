/**
 * The Node edge against the shared stack's real Kafka: events posted over
 * real HTTP arrive on the topic unchanged but for enrichment, and a real
 * Segment SDK (@segment/analytics-node) pointed at the edge delivers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Analytics } from '@segment/analytics-node';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaBus, type KafkaBus } from '../shared/bus/kafka/kafka-bus.ts';
import { eventKey } from '../shared/event.ts';
import { readStackEnv } from '../test/infra/stack-env.ts';
import { type EdgeHandle, startEdge } from './node.ts';
import { signRelayBody } from './relay/relay-signature.ts';
import {
  deleteTopic,
  edgeTestConfig,
  freePort,
  IT_RELAY_SECRET,
  IT_WRITE_KEY,
  uniqueName,
  waitForMessageIds,
} from './testing/edge-it-fixture.ts';
import { fuzzRequestArb } from './testing/fuzz-requests.ts';
import { trackerScript } from './tracker/serve.ts';

const logger = pino({ level: 'warn' });
let brokers: string[];
let topic: string;
let spoolDir: string;
let edge: EdgeHandle;
let reader: KafkaBus;

beforeAll(async () => {
  brokers = readStackEnv().KAFKA_BROKERS.split(',');
  topic = uniqueName('edge-it');
  spoolDir = await mkdtemp(join(tmpdir(), 'edge-it-spool-'));
  edge = await startEdge(edgeTestConfig({ port: await freePort(), brokers, topic, spoolDir }), { logger });
  reader = createKafkaBus({ brokers, clientId: 'edge-it-reader' });
  // The edge creates the topic in the background; wait for it before reading.
  await vi.waitFor(async () => expect(await reader.watermarks(topic)).toHaveLength(3), {
    timeout: 60_000,
    interval: 250,
  });
});

afterAll(async () => {
  await edge?.close();
  await reader?.close();
  if (topic) await deleteTopic(brokers, topic).catch(() => {});
  if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
});

describe('Node edge on real Kafka', () => {
  it('delivers posted events unchanged but for enrichment', async () => {
    const sent = [
      {
        type: 'track',
        event: 'Order Completed',
        userId: 'user-42',
        messageId: uniqueName('m'),
        timestamp: '2026-03-01T11:59:00.000Z',
        properties: { total: 99.5, items: [{ sku: 'A-1', qty: 2 }], note: 'ünïcødé ✓', nothing: null },
        context: { ip: '198.51.100.23', locale: 'de-DE', page: { path: '/checkout' } },
      },
      {
        type: 'page',
        name: 'Home',
        anonymousId: 'anon-1',
        messageId: uniqueName('m'),
        properties: { path: '/' },
      },
      { type: 'identify', userId: 'user-42', messageId: uniqueName('m'), traits: { plan: 'pro', age: 41 } },
      { type: 'group', userId: 'user-42', groupId: 'acme', messageId: uniqueName('m'), traits: { size: 10 } },
      { type: 'alias', userId: 'user-42', previousId: 'anon-1', messageId: uniqueName('m') },
      { type: 'screen', name: 'Cart', userId: 'user-42', messageId: uniqueName('m') },
    ];
    const res = await fetch(`${edge.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${IT_WRITE_KEY}:`)}`,
        'content-type': 'application/json',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
        'cf-ipcountry': 'NL',
      },
      body: JSON.stringify({ batch: sent, sentAt: '2026-03-01T11:59:30.000Z' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: sent.length, rejected: [] });

    // A sendBeacon-style request as well: text/plain, gzip, key in the body, short path.
    const beaconId = uniqueName('m');
    const beacon = await fetch(`${edge.url}/v1/t`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-encoding': 'gzip' },
      body: gzipSync(
        JSON.stringify({ writeKey: IT_WRITE_KEY, event: 'Beacon', anonymousId: 'b', messageId: beaconId }),
      ),
    });
    expect(beacon.status).toBe(200);

    const onKafka = await waitForMessageIds(reader, topic, [...sent.map((e) => e.messageId), beaconId]);
    for (const original of sent) {
      const found = onKafka.find((m) => m.event.messageId === original.messageId)!;
      const { receivedAt, projectId, enrichment, originalTimestamp, timestamp, sentAt, ...rest } =
        found.event;
      const {
        context,
        timestamp: sentTimestamp,
        ...unchanged
      } = original as typeof original & {
        context?: Record<string, unknown>;
        timestamp?: string;
      };
      expect(rest).toEqual({
        ...unchanged,
        ...(context ? { context: { locale: 'de-DE', page: { path: '/checkout' } } } : {}),
      });
      expect(projectId).toBe('proj_it');
      expect(sentAt).toBe('2026-03-01T11:59:30.000Z');
      expect(Date.parse(receivedAt)).toBeGreaterThan(Date.now() - 600_000);
      if (sentTimestamp) {
        // Skew correction: 30 s before the batch was sent, anchored on receivedAt.
        expect(Date.parse(timestamp)).toBe(Date.parse(receivedAt) - 30_000);
        expect(originalTimestamp).toBe(sentTimestamp);
      }
      expect(enrichment?.country).toBe('NL');
      expect(enrichment?.userAgent).toMatchObject({ browser: 'Firefox', os: 'Linux' });
      expect(enrichment?.ipHash).toMatch(/^[0-9a-f]{16}$/);
      expect(found.key).toBe(eventKey(found.event));
      expect(found.timestamp).toBe(Date.parse(receivedAt));
    }
    expect(JSON.stringify(onKafka)).not.toContain('198.51.100.23');
  });

  it('takes events from @segment/analytics-node', async () => {
    const runId = uniqueName('sdk');
    const analytics = new Analytics({
      writeKey: IT_WRITE_KEY,
      host: edge.url,
      flushAt: 7,
      flushInterval: 200,
    });
    const messageIds: string[] = [];
    for (let i = 0; i < 25; i++) {
      analytics.track(
        { userId: `sdk-user-${i % 4}`, event: 'SDK Event', properties: { runId, i } },
        (err, ctx) => {
          if (!err && ctx) messageIds.push(ctx.event.messageId!);
        },
      );
    }
    analytics.identify({ userId: 'sdk-user-0', traits: { runId, name: 'Ada' } });
    await analytics.closeAndFlush({ timeout: 30_000 });
    expect(messageIds).toHaveLength(25);
    const onKafka = await waitForMessageIds(reader, topic, messageIds);
    const ours = onKafka.filter(
      (m) => m.event.properties?.runId === runId || m.event.traits?.runId === runId,
    );
    expect(ours).toHaveLength(26);
    const first = ours.find((m) => m.event.properties?.i === 0)!.event;
    expect(first).toMatchObject({
      type: 'track',
      event: 'SDK Event',
      userId: 'sdk-user-0',
      projectId: 'proj_it',
    });
    expect(first.context?.library).toMatchObject({ name: '@segment/analytics-node' });
  });

  it('takes a signed relay batch and refuses a forged one', async () => {
    const relayed = {
      type: 'track' as const,
      event: 'Relayed',
      messageId: uniqueName('relay'),
      userId: 'u',
      timestamp: '2026-03-01T12:00:00.000Z',
      receivedAt: '2026-03-01T12:00:01.000Z',
      projectId: 'proj_it',
      enrichment: { country: 'JP' },
    };
    const body = JSON.stringify({ events: [relayed] });
    const now = Math.floor(Date.now() / 1000);
    const forged = await fetch(`${edge.url}/v1/relay`, {
      method: 'POST',
      body,
      headers: await signRelayBody('an-attacker-guess-000000', body, now),
    });
    expect(forged.status).toBe(401);
    const signed = await fetch(`${edge.url}/v1/relay`, {
      method: 'POST',
      body,
      headers: await signRelayBody(IT_RELAY_SECRET, body, now),
    });
    expect(signed.status).toBe(200);
    const onKafka = await waitForMessageIds(reader, topic, [relayed.messageId]);
    expect(onKafka.find((m) => m.event.messageId === relayed.messageId)?.event).toEqual(relayed);
  });

  it('never answers 5xx to fuzzed requests over real HTTP', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequestArb([IT_WRITE_KEY]), async (r) => {
        const res = await fetch(`${edge.url}${r.path}`, {
          method: r.method,
          headers: r.headers,
          ...(r.body ? { body: r.body } : {}),
        });
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
      }),
      { seed: 424242, numRuns: 150 },
    );
    expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
  });

  it('exposes readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${edge.url}/readyz`)).json()).toMatchObject({
      status: 'ready',
      mode: 'direct',
    });
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    expect(metrics).toMatch(/^edge_events_accepted_total \d+/m);
    expect(metrics).toMatch(/^edge_spool_bytes 0/m);
    expect(metrics).toContain('edge_request_duration_seconds_bucket');
    expect(metrics).toContain('# TYPE edge_sink_events_total counter');
    expect(metrics).toMatch(/^edge_sink_events_total\{path="direct"\} [1-9]\d*$/m);
  });

  it('serves the tracker at /t.js, built from edge/tracker, gzipped and revalidated by ETag', async () => {
    const plain = await fetch(`${edge.url}/t.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await plain.text()).toBe(await trackerScript());

    // fetch undoes the gzip itself; content-encoding shows it came compressed.
    const zipped = await fetch(`${edge.url}/t.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(await zipped.text()).toBe(await trackerScript());
    const etag = zipped.headers.get('etag')!;
    const again = await fetch(`${edge.url}/t.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('lets an allowed browser origin read the answer and its Retry-After', async () => {
    const res = await fetch(`${edge.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
      body: JSON.stringify({ writeKey: IT_WRITE_KEY, batch: [{ type: 'page', anonymousId: 'cors-it' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After');
  });
});
