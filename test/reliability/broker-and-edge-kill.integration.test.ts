/**
 * Fault matrix on a PRIVATE Kafka (own ports and data; s3proxy and
 * HiveServer2 are the shared stack's): the broker SIGKILLed while clients
 * post and again in the middle of a load; the edge SIGKILLed with a full
 * spool; the spool's disk filled up. Each ends with a load and a comparison,
 * through HiveServer2, with every messageId the edge acknowledged.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../infra/free-port.ts';
import { type KafkaHandle, startKafka } from '../infra/kafka.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import {
  Acks,
  compare,
  exited,
  openPipeline,
  type Pipeline,
  postBatch,
  postUntil,
  report,
  trackEvents,
  waitUntil,
} from './pipeline-fixture.ts';

printServerLogsOnFailure(['s3', 'hive']);

let work: string;
let kafka: KafkaHandle;
const pipelines: Pipeline[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'b2h-rel-kafka-'));
  kafka = await startKafka({
    port: await freePort(),
    controllerPort: await freePort(),
    dataDir: join(work, 'kafka'),
    logDir: join(work, 'kafka-logs'),
  });
}, 120_000);

afterAll(async () => {
  for (const p of pipelines) await p.close().catch(() => {});
  await kafka?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function pipeline(label: string, options: { spoolDir?: string; spoolMaxBytes?: number } = {}) {
  const p = await openPipeline(readStackEnv(), { label, brokers: kafka.brokers, ...options });
  pipelines.push(p);
  return p;
}

/** The edge's sink mode from /readyz (`direct` once Kafka takes produces again). */
async function edgeMode(p: Pipeline): Promise<string | undefined> {
  const response = await fetch(`${p.edgeUrl}/readyz`).catch(() => null);
  const body = (await response?.json().catch(() => null)) as { mode?: string } | null;
  return body?.mode;
}

async function loadAndCompare(p: Pipeline, acks: Acks, scenario: string) {
  const run = await p.loader(['run']);
  expect(run.code, run.log).toBe(0);
  const row = report(compare(scenario, acks.acked, await p.warehouseCounts()));
  expect(acks.serverErrors()).toEqual([]);
  expect(row).toMatchObject({ lost: 0, duplicated: 0 });
}

describe('fault matrix: Kafka and the edge killed', () => {
  it('broker SIGKILLed during ingest, then during a load', async () => {
    const p = await pipeline('broker-kill');
    const edge = await p.startEdge();
    const acks = new Acks();
    let stop = false;
    const clients = postUntil(p.edgeUrl, 'ingest', acks, () => stop);
    try {
      await waitUntil('300 events are acknowledged', () => acks.acked.size >= 300);
      await kafka.kill();
      const atKill = acks.acked.size;
      await waitUntil('600 more are acknowledged from the spool', () => acks.acked.size >= atKill + 600);
      await kafka.restart();
      await waitUntil(
        'the edge writes to Kafka again',
        async () => (await edgeMode(p)) === 'direct',
        120_000,
      );
      const atRecovery = acks.acked.size;
      await waitUntil('300 more are acknowledged', () => acks.acked.size >= atRecovery + 300);
    } finally {
      stop = true;
      await clients;
    }
    // Everything the spool held reaches Kafka before the load reads its range.
    await waitUntil('the spool is drained', async () => (await edgeMode(p)) === 'direct', 60_000);
    await loadAndCompare(p, acks, 'broker SIGKILLed during ingest (edge spools, then drains)');

    // Now during a load: the broker dies once the loader has started reading.
    for (let i = 0; i < 10; i++) await postBatch(p.edgeUrl, trackEvents('during-load', 50), acks);
    const failed = await p.loader(['run'], {
      onLine: (line) => {
        if (line.includes('"step":"consume"')) void kafka.kill();
      },
    });
    expect(failed.code === 0 || failed.code === 1, failed.log).toBe(true);
    await kafka.restart();
    await waitUntil('the edge writes to Kafka again', async () => (await edgeMode(p)) === 'direct', 120_000);
    await loadAndCompare(p, acks, 'broker SIGKILLed during a load');
    edge.kill('SIGTERM');
    await exited(edge);
  }, 420_000);

  it('edge SIGKILLed with a full spool: every acknowledged event is delivered after a restart', async () => {
    const p = await pipeline('edge-full-spool', { spoolMaxBytes: 256 * 1024 });
    await kafka.kill();
    let edge: ChildProcess = await p.startEdge('edge-first');
    const acks = new Acks();
    let full = false;
    for (let i = 0; i < 400 && !full; i++) {
      full = (await postBatch(p.edgeUrl, trackEvents('spooled', 20), acks)) === '503';
    }
    expect(full, 'the spool never filled').toBe(true);
    expect(acks.acked.size).toBeGreaterThan(100);
    edge.kill('SIGKILL');
    await exited(edge);
    await kafka.restart();
    edge = await p.startEdge('edge-second');
    await waitUntil('the spool is drained', async () => (await edgeMode(p)) === 'direct', 120_000);
    await loadAndCompare(p, acks, 'edge SIGKILLed with a full spool (Kafka down)');
    edge.kill('SIGTERM');
    await exited(edge);
  }, 300_000);

  it('the spool disk fills up: 503 with a reason, nothing acknowledged is lost', async (context) => {
    const spoolDir = join(work, 'small-disk');
    await mkdir(spoolDir, { recursive: true });
    try {
      // A 256 KiB filesystem: the disk fills long before the spool's own 64 MiB bound.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', spoolDir]);
    } catch {
      context.skip('mounting a small tmpfs needs root (CI runs as root)');
    }
    try {
      const p = await pipeline('spool-disk-full', { spoolDir, spoolMaxBytes: 64 << 20 });
      await kafka.kill();
      const edge = await p.startEdge();
      const acks = new Acks();
      let refused: string | undefined;
      for (let i = 0; i < 400 && refused === undefined; i++) {
        const status = await postBatch(p.edgeUrl, trackEvents('disk', 20), acks);
        if (status !== '200') refused = status;
      }
      expect(refused).toBe('503');
      expect(acks.acked.size).toBeGreaterThan(50);
      await kafka.restart();
      await waitUntil('the spool is drained', async () => (await edgeMode(p)) === 'direct', 120_000);
      await waitUntil(
        'the spool directory is empty',
        async () => (await readdir(spoolDir)).length <= 1,
        60_000,
      );
      await loadAndCompare(p, acks, 'spool disk full (Kafka down): 503, then drained');
      edge.kill('SIGTERM');
      await exited(edge);
    } finally {
      try {
        execFileSync('umount', ['-l', spoolDir]);
      } catch {}
    }
  }, 300_000);
});
