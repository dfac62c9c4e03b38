/**
 * What real SDKs send survives, field by field: @segment/analytics-node and
 * @rudderstack/rudder-sdk-node post through a recording proxy to the edge of
 * a one-machine process on the real stack (Kafka, s3proxy, HiveServer2). Each
 * event as the SDK sent it is compared with its Kafka value and with its row
 * read back through HiveServer2 after a load; the only differences allowed are
 * the ones docs/fields.md lists (the write key and `_metadata` dropped, the
 * edge's own fields added, a batch's sentAt copied onto its events).
 */

import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForMessageIds } from '../../edge/testing/edge-it-fixture.ts';
import { createKafkaBus, type KafkaBus } from '../../shared/bus/kafka/kafka-bus.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { type OneMachineProcess, requestLoad } from '../demo/one-machine.ts';
import { queryHive } from '../infra/hive-client.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv, type StackEnv, stackCatalogConfig, stackStoreConfig } from '../infra/stack-env.ts';
import {
  e2eTables,
  freePort,
  logTail,
  removeDir,
  settled,
  startOnTestPorts,
  tempDataDir,
  uniqueSuffix,
} from './one-machine-fixture.ts';
import { removeStackRun } from './real-stack-fixture.ts';

const PROJECT = {
  id: 'sdk-fidelity',
  name: 'SDK fidelity',
  writeKeys: ['wk_sdkfid_0123456789abcdef'],
  readKeys: ['rk_sdkfid_0123456789abcdef0123'],
};
type Sent = Record<string, unknown> & { messageId: string };

printServerLogsOnFailure(['kafka', 's3', 'hive']);

/** Forwards every request to the edge and keeps each event of each body, as the SDK sent it. */
function recordingProxy(target: () => string, sent: Sent[]): Server {
  return createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    const body = JSON.parse(text) as { batch: Sent[]; sentAt?: string };
    for (const e of body.batch) sent.push(body.sentAt && !e.sentAt ? { ...e, sentAt: body.sentAt } : e);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
    ) as Record<string, string>;
    const answer = await fetch(`${target()}${req.url}`, { method: req.method, headers, body: raw });
    res.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    res.end(await answer.text());
  });
}

/** An instant as Hive prints a TIMESTAMP (UTC wall clock), to milliseconds. */
function hiveInstant(value: unknown): number | null {
  return typeof value === 'string' ? Date.parse(`${value.replace(' ', 'T')}Z`) : null;
}

describe('real SDKs: what each sent is in Kafka and in Hive, field by field', () => {
  const suffix = uniqueSuffix();
  const topic = `sdk-${suffix}`;
  const tables = e2eTables('sdk', suffix);
  const sent: Sent[] = [];
  let stack: StackEnv;
  let dir = '';
  let proc: OneMachineProcess | undefined;
  let proxy: Server;
  let proxyUrl = '';
  let bus: KafkaBus;

  beforeAll(async () => {
    stack = readStackEnv();
    dir = await tempDataDir('sdk');
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        projects: [PROJECT],
        demoProject: false,
        bus: { kind: 'kafka', brokers: stack.KAFKA_BROKERS.split(','), topic, partitions: 2 },
        store: stackStoreConfig(stack, `sdk-${suffix}`),
        catalog: stackCatalogConfig(stack),
        tables,
        loader: { group: `sdk-${suffix}` },
      }),
    );
    proc = await settled(await startOnTestPorts(dir, { args: ['--config', config, '--log-level', 'warn'] }));
    const port = await freePort();
    proxy = recordingProxy(() => proc!.run.edgeUrl, sent);
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${port}`;
    bus = createKafkaBus(
      { brokers: stack.KAFKA_BROKERS.split(','), clientId: 'sdk-fidelity-reader' },
      pino({ level: 'silent' }),
    );
  });

  afterAll(async () => {
    await proc?.stop();
    await bus?.close();
    await new Promise((resolve) => proxy?.close(resolve));
    if (dir) await removeDir(dir);
    await removeStackRun(stack, { tables, topic, group: `sdk-${suffix}` });
  });

  it('keeps every spec field from both SDKs', { timeout: 600_000 }, async () => {
    const context = {
      locale: 'de-DE',
      app: { name: 'shop', build: '42' },
      campaign: { name: 'spring', source: 'news', medium: 'email' },
    };
    const segment = new Analytics({
      writeKey: PROJECT.writeKeys[0]!,
      host: proxyUrl,
      flushAt: 20,
      flushInterval: 100,
    });
    segment.track({
      userId: 'seg-user',
      event: 'Order Completed',
      properties: { total: 12.5, items: [{ sku: 'A' }] },
      context,
      integrations: { All: false, Mixpanel: true },
    });
    segment.page({ userId: 'seg-user', category: 'Docs', name: 'Pricing', properties: { path: '/pricing' } });
    segment.screen({ anonymousId: 'seg-anon', name: 'Cart', properties: { items: 2 } });
    segment.identify({ userId: 'seg-user', traits: { plan: 'pro' } });
    segment.group({ userId: 'seg-user', groupId: 'acme', traits: { size: 10 } });
    segment.alias({ userId: 'seg-user', previousId: 'seg-anon' });
    await segment.closeAndFlush({ timeout: 30_000 });

    const rudder = new RudderAnalytics(PROJECT.writeKeys[0]!, {
      dataPlaneUrl: proxyUrl,
      flushAt: 20,
      flushInterval: 100,
      logLevel: 'error',
    });
    rudder.track({
      userId: 'rs-user',
      event: 'Signed Up',
      properties: { plan: 'free' },
      context,
      integrations: { All: true },
    });
    rudder.page({ userId: 'rs-user', category: 'Docs', name: 'Home', properties: { path: '/' } });
    rudder.screen({ anonymousId: 'rs-anon', name: 'Settings' });
    rudder.identify({ userId: 'rs-user', traits: { name: 'Ada' } });
    rudder.group({ userId: 'rs-user', groupId: 'initech', traits: { size: 3 } });
    rudder.alias({ userId: 'rs-user', previousId: 'rs-anon' });
    await new Promise<void>((resolve, reject) =>
      rudder.flush((err?: unknown) => (err ? reject(err) : resolve())),
    );

    expect(sent).toHaveLength(12);
    // RudderStack sends originalTimestamp and no timestamp; Segment the other way round.
    expect(sent.filter((e) => 'originalTimestamp' in e && !('timestamp' in e))).toHaveLength(6);

    const onKafka = await waitForMessageIds(
      bus,
      topic,
      sent.map((e) => e.messageId),
    );
    for (const original of sent) {
      const value = onKafka.find((m) => m.event.messageId === original.messageId)!.event as EnrichedEvent &
        Record<string, unknown>;
      const { projectId, receivedAt, eventTime, enrichment, ...client } = value;
      // Dropped as docs/fields.md says: the write key and SDK bookkeeping.
      const { writeKey: _w, _metadata: _m, ...kept } = original;
      expect(client, JSON.stringify(original)).toEqual(kept);
      expect(projectId).toBe(PROJECT.id);
      expect(enrichment).toBeDefined();
      const clientTime = (original.timestamp ?? original.originalTimestamp) as string;
      // Skew correction from the client's own time (both SDKs send sentAt): never later than receivedAt.
      expect(Date.parse(eventTime!)).toBeLessThanOrEqual(Date.parse(receivedAt));
      expect(Date.parse(receivedAt) - Date.parse(eventTime!)).toBe(
        Date.parse(original.sentAt as string) - Date.parse(clientTime),
      );
    }

    const load = await requestLoad(proc!.run);
    expect(load.events, await logTail(proc!)).toBe(12);
    const hive = { host: stack.HIVE_HOST, port: stack.HIVE_PORT, auth: stack.HIVE_AUTH };
    const rows = await queryHive(hive, `SELECT * FROM ${tables.events}`, { timeoutMs: 300_000 });
    expect(rows).toHaveLength(12);
    const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : null);
    for (const e of sent) {
      const row = rows.find(
        (r) => r[`${tables.events}.message_id`] === e.messageId || r.message_id === e.messageId,
      )!;
      const col = (name: string) => row[`${tables.events}.${name}`] ?? row[name] ?? null;
      expect(
        {
          type: col('type'),
          user_id: col('user_id'),
          anonymous_id: col('anonymous_id'),
          event: e.type === 'track' ? col('event') : undefined,
          name: col('name'),
          category: col('category'),
          group_id: col('group_id'),
          previous_id: col('previous_id'),
          channel: col('channel'),
          properties: json(col('properties')),
          traits: json(col('traits')),
          context: json(col('context')),
          integrations: json(col('integrations')),
          client_timestamp: hiveInstant(col('client_timestamp')),
          original_timestamp: hiveInstant(col('original_timestamp')),
          sent_at: hiveInstant(col('sent_at')),
        },
        JSON.stringify(e),
      ).toEqual({
        type: e.type,
        user_id: e.userId ?? null,
        anonymous_id: e.anonymousId ?? null,
        event: e.type === 'track' ? e.event : undefined,
        name: e.name ?? null,
        category: e.category ?? null,
        group_id: e.groupId ?? null,
        previous_id: e.previousId ?? null,
        channel: e.channel ?? null,
        properties: e.properties ?? null,
        traits: e.traits ?? null,
        context: e.context ?? null,
        integrations: e.integrations ?? null,
        client_timestamp: typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : null,
        original_timestamp: typeof e.originalTimestamp === 'string' ? Date.parse(e.originalTimestamp) : null,
        sent_at: Date.parse(e.sentAt as string),
      });
    }
  });
});
