/**
 * Fault tests on a PRIVATE Kafka (own ports and data, never the shared
 * stack's): the broker is SIGKILLed while clients keep posting, and the edge
 * process itself is SIGKILLed with events in its spool. In both, every event
 * the edge acknowledged with a 2xx must reach Kafka (compared by messageId).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaBus, type KafkaBus } from '../shared/bus/kafka/kafka-bus.ts';
import { type KafkaHandle, startKafka } from '../test/infra/kafka.ts';
import { type EdgeHandle, startEdge } from './node.ts';
import {
  deleteTopic,
  edgeTestConfig,
  FAULT_TEST_SINK,
  freePort,
  IT_WRITE_KEY,
  uniqueName,
  waitForMessageIds,
} from './testing/edge-it-fixture.ts';

const NODE_ENTRY = fileURLToPath(new URL('./node.ts', import.meta.url));
// kafkajs logs every refused connection while the broker is down: keep the test output readable.
const logger = pino({ level: 'silent' });
const auth = { authorization: `Basic ${btoa(`${IT_WRITE_KEY}:`)}`, 'content-type': 'application/json' };

let work: string;
let kafka: KafkaHandle;
let reader: KafkaBus;
const topics: string[] = [];
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'edge-fault-'));
  kafka = await startKafka({
    port: await freePort(),
    controllerPort: await freePort(),
    dataDir: join(work, 'kafka'),
    logDir: join(work, 'kafka-logs'),
  });
  reader = createKafkaBus({ brokers: kafka.brokers, clientId: 'edge-fault-reader' });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await reader?.close();
  for (const topic of topics) await deleteTopic(kafka.brokers, topic).catch(() => {});
  await kafka?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let sequence = 0;
function batchOf(n: number, prefix: string) {
  return Array.from({ length: n }, () => {
    sequence += 1;
    return { type: 'track', event: 'Fault', userId: `u${sequence % 7}`, messageId: `${prefix}-${sequence}` };
  });
}

async function post(url: string, batch: Array<{ messageId: string }>): Promise<number> {
  const res = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ batch }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('edge faults', () => {
  it('keeps acknowledging from the spool while the broker is SIGKILLed, and loses nothing', async () => {
    const topic = uniqueName('edge-fault-broker');
    topics.push(topic);
    const edge: EdgeHandle = await startEdge(
      edgeTestConfig({
        port: await freePort(),
        brokers: kafka.brokers,
        topic,
        spoolDir: join(work, 'spool-broker'),
        overrides: {
          sink: FAULT_TEST_SINK,
        },
      }),
      { logger },
    );
    // Three clients post batches of 10 back to back for the whole test.
    const acked: string[] = [];
    const statuses = new Map<string, number>();
    let stop = false;
    const client = async (name: string) => {
      while (!stop) {
        const batch = batchOf(10, name);
        const status = await post(edge.url, batch).then(String, (err: unknown) => `network: ${err}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === '200') acked.push(...batch.map((e) => e.messageId));
      }
    };
    let clients: Promise<unknown> = Promise.resolve();
    try {
      await vi.waitFor(async () => expect(await reader.watermarks(topic)).toHaveLength(3), {
        timeout: 60_000,
      });
      clients = Promise.all(['a', 'b', 'c'].map(client));
      const ackedAtLeast = (n: number) =>
        vi.waitFor(() => expect(acked.length).toBeGreaterThanOrEqual(n), { timeout: 60_000, interval: 20 });

      await ackedAtLeast(300);
      await kafka.kill();
      const atKill = acked.length;
      await ackedAtLeast(atKill + 600);
      expect(edge.sink.stats().mode).not.toBe('direct');
      expect(edge.spool.stats().records).toBeGreaterThan(0);

      await kafka.restart();
      await vi.waitFor(() => expect(edge.sink.stats().mode).toBe('direct'), {
        timeout: 120_000,
        interval: 100,
      });
      const atRecovery = acked.length;
      await ackedAtLeast(atRecovery + 300);
      stop = true;
      await clients;

      // Every answer was a 2xx: the outage was invisible to clients.
      expect([...statuses.keys()]).toEqual(['200']);
      const onKafka = await waitForMessageIds(reader, topic, acked);
      const distinct = new Set(onKafka.map((m) => m.event.messageId));
      expect(acked.every((id) => distinct.has(id))).toBe(true);
      expect(edge.sink.stats().drained).toBeGreaterThan(0);
    } finally {
      stop = true;
      await clients;
      await edge.close();
    }
  });

  it('delivers what a SIGKILLed edge left in its spool once restarted', async () => {
    const topic = uniqueName('edge-fault-process');
    topics.push(topic);
    const port = await freePort();
    const spoolDir = join(work, 'spool-process');
    const configFile = join(work, 'edge-process.json');
    const config = edgeTestConfig({ port, brokers: kafka.brokers, topic, spoolDir });
    await writeFile(configFile, JSON.stringify(config));
    const url = `http://127.0.0.1:${port}`;

    await kafka.kill();
    const first = await spawnEdge(configFile, join(work, 'edge-first.log'), url);
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = batchOf(10, 'spooled');
      expect(await post(url, batch)).toBe(200);
      acked.push(...batch.map((e) => e.messageId));
    }
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ mode: 'spool', spoolRecords: 50 });
    first.kill('SIGKILL');
    await exited(first);
    expect((await readdir(spoolDir)).length).toBeGreaterThan(0);

    await kafka.restart();
    const second = await spawnEdge(configFile, join(work, 'edge-second.log'), url);
    await waitForMessageIds(reader, topic, acked);
    await vi.waitFor(async () => expect(await readdir(spoolDir)).toEqual([]), { timeout: 30_000 });

    // And SIGTERM is a clean stop.
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
    const log = await readFile(join(work, 'edge-second.log'), 'utf8');
    expect(log).toContain('spool: recovered events from a previous run');
    expect(log).toContain('edge stopped');
  });
});

async function spawnEdge(configFile: string, logFile: string, url: string): Promise<ChildProcess> {
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [NODE_ENTRY, '--config', configFile], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`edge exited early: ${await readFile(logFile, 'utf8')}`);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
