/**
 * One-machine mode is honest only if it answers like production. The same
 * events (seeded demo traffic over three days, through the edge's signed
 * relay so their receivedAt hours are fixed) go to two one-machine
 * processes: one on the embedded adapters (local log, directory, DuckDB),
 * one configured like prod.example.json against the shared stack (Kafka,
 * s3proxy, HiveServer2). After a load each, every insights endpoint gives the
 * same answer on both.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OneMachineProcess, requestLoad } from '../demo/one-machine.ts';
import { sendRelayed } from '../demo/send.ts';
import { DEMO_FUNNEL, demoTraffic } from '../demo/traffic.ts';
import { testS3Client } from '../infra/s3proxy.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import {
  readStackEnv,
  type StackEnv,
  stackCatalogConfig,
  stackS3Endpoint,
  stackStoreConfig,
} from '../infra/stack-env.ts';
import {
  askInsights,
  e2eTables,
  logTail,
  removeDir,
  settled,
  startOnTestPorts,
  tempDataDir,
  uniqueSuffix,
} from './one-machine-fixture.ts';
import { removeStackRun } from './real-stack-fixture.ts';

const DAY_MS = 86_400_000;
const PROJECT = {
  id: 'e2e-shop',
  name: 'End to end',
  writeKeys: ['wk_e2e_0123456789abcdef'],
  readKeys: ['rk_e2e_0123456789abcdef0123'],
};

printServerLogsOnFailure(['kafka', 's3', 'hive']);

/**
 * With the raw client: Hive's S3A leaves directory markers (keys ending in '/') that the
 * product's S3ObjectStore refuses as object keys, so its deletePrefix cannot remove them.
 */
async function deleteS3Prefix(stack: StackEnv, prefix: string): Promise<void> {
  const s3 = testS3Client(stackS3Endpoint(stack));
  try {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: stack.S3_BUCKET, Prefix: prefix }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) return;
      await s3.send(new DeleteObjectsCommand({ Bucket: stack.S3_BUCKET, Delete: { Objects: keys } }));
    }
  } finally {
    s3.destroy();
  }
}

describe('one machine: embedded adapters and the real stack agree', () => {
  const suffix = uniqueSuffix();
  const topic = `e2e-${suffix}`;
  const prefix = `e2e-${suffix}`;
  const tables = e2eTables('e2e', suffix);
  let stack: StackEnv;
  const dirs: string[] = [];
  const procs: OneMachineProcess[] = [];

  beforeAll(() => {
    stack = readStackEnv();
  });

  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) await removeDir(d);
    await removeStackRun(stack, { tables, topic, group: `e2e-${suffix}` });
    await deleteS3Prefix(stack, `${prefix}/`);
  });

  it('gives the same insights answers', async () => {
    const embeddedDir = await tempDataDir('embedded');
    const realDir = await tempDataDir('real');
    dirs.push(embeddedDir, realDir);
    const common = { projects: [PROJECT], demoProject: false };
    const embeddedConfig = join(embeddedDir, 'config.json');
    await writeFile(embeddedConfig, JSON.stringify(common));
    // What prod.example.json says, with this run's own topic, prefix, tables and group.
    const realConfig = join(realDir, 'config.json');
    await writeFile(
      realConfig,
      JSON.stringify({
        ...common,
        bus: { kind: 'kafka', brokers: stack.KAFKA_BROKERS.split(','), topic, partitions: 3 },
        store: stackStoreConfig(stack, prefix),
        catalog: stackCatalogConfig(stack),
        tables,
        loader: { group: `e2e-${suffix}` },
        // Every HiveServer2 query is a local MapReduce job: on two loaded cores one took over the 30 s default.
        insights: { queryTimeoutMs: 150_000 },
      }),
    );
    const [embedded, real] = await Promise.all([
      startOnTestPorts(embeddedDir, { args: ['--config', embeddedConfig, '--log-level', 'warn'] }),
      startOnTestPorts(realDir, { args: ['--config', realConfig, '--log-level', 'warn'] }),
    ]);
    procs.push(embedded, real);
    await Promise.all([settled(embedded), settled(real)]);
    expect(real.run.adapters).toEqual({ bus: 'kafka', store: 's3', catalog: 'hive' });

    const now = Date.now();
    const sessions = demoTraffic({ seed: 7, endMs: now, days: 2, sessionsPerDay: 40 });
    const events = sessions.reduce((n, s) => n + s.events.length, 0);
    for (const proc of [embedded, real]) {
      const sent = await sendRelayed(
        {
          edgeUrl: proc.run.edgeUrl,
          writeKey: PROJECT.writeKeys[0]!,
          projectId: PROJECT.id,
          relaySecret: proc.run.relaySecret!,
        },
        sessions,
      );
      expect(sent.accepted).toHaveLength(events);
      const load = await requestLoad(proc.run);
      expect(load.events, await logTail(proc)).toBe(events);
    }

    const from = new Date(Math.floor(now / DAY_MS) * DAY_MS - 2 * DAY_MS).toISOString().slice(0, 10);
    const to = new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS).toISOString().slice(0, 10);
    const range = { from, to };
    const questions: [string, Record<string, string | string[]>][] = [
      ['summary', range],
      ['timeseries', { ...range, interval: 'day' }],
      ['timeseries', { ...range, interval: 'hour' }],
      ['timeseries', { ...range, interval: 'day', event: 'Pricing Viewed' }],
      ...['event', 'page_path', 'country', 'browser', 'device', 'referrer_host', 'utm_source'].map(
        (dimension): [string, Record<string, string>] => ['top', { ...range, dimension }],
      ),
      ['top', { ...range, dimension: 'property', property: 'plan', event: 'Signup Started' }],
      ['funnel', { ...range, step: [...DEMO_FUNNEL] }],
      ['retention', range],
    ];
    for (const [endpoint, params] of questions) {
      const [a, b] = await Promise.all([
        askInsights(embedded.run, endpoint, params),
        askInsights(real.run, endpoint, params),
      ]);
      expect(b, `${endpoint} ${JSON.stringify(params)}`).toEqual(a);
    }
    // And the answers are about the traffic that was sent, not two empty warehouses: all of it
    // with the demo's crawlers counted in, fewer without them (the default).
    const ask = (params: Record<string, string>) =>
      askInsights<{ current: { events: number } }>(embedded.run, 'summary', params);
    expect((await ask({ ...range, bots: 'include' })).current.events).toBe(events);
    const people = (await ask(range)).current.events;
    expect(people).toBeGreaterThan(0);
    expect(people).toBeLessThan(events);
  });
}, 900_000);
