/**
 * The standalone edge with `workers: 2` (node:cluster, cluster.ts), started as
 * an operator starts it (`node edge/node.ts`), on the shared stack's Kafka:
 * both workers serve the port, every acknowledged event reaches Kafka,
 * /metrics counts the whole edge whichever worker answers, a killed worker is
 * replaced, SIGTERM stops them all cleanly; and a spool that fewer workers
 * would strand keeps the edge from starting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaBus, type KafkaBus } from '../shared/bus/kafka/kafka-bus.ts';
import { readStackEnv } from '../test/infra/stack-env.ts';
import {
  deleteTopic,
  freePort,
  IT_WRITE_KEY,
  uniqueName,
  waitForMessageIds,
} from './testing/edge-it-fixture.ts';

const NODE_ENTRY = join(import.meta.dirname, 'node.ts');
const AUTH = `Basic ${Buffer.from(`${IT_WRITE_KEY}:`).toString('base64')}`;

let brokers: string[];
let topic: string;
let work: string;
let reader: KafkaBus;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  brokers = readStackEnv().KAFKA_BROKERS.split(',');
  topic = uniqueName('edge-cluster-it');
  work = await mkdtemp(join(tmpdir(), 'edge-cluster-it-'));
  reader = createKafkaBus({ brokers, clientId: 'edge-cluster-it-reader' });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await reader?.close();
  if (topic) await deleteTopic(brokers, topic).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

function edgeEnv(port: number, spoolDir: string, workers: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOG_LEVEL: 'info',
    EDGE_PORT: String(port),
    EDGE_WORKERS: String(workers),
    EDGE_PROJECTS: JSON.stringify([
      { id: 'proj_it', writeKeys: [IT_WRITE_KEY], rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } },
    ]),
    EDGE_IP_SALT: 'integration-salt-0123456789',
    KAFKA_BROKERS: brokers.join(','),
    EDGE_TOPIC: topic,
    EDGE_TOPIC_PARTITIONS: '3',
    EDGE_SPOOL_DIR: spoolDir,
  };
}

function spawnEdge(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [NODE_ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

/** One POST on a connection of its own (no keep-alive), so the cluster hands each to a worker in turn. */
function post(port: number, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          authorization: AUTH,
          'content-length': Buffer.byteLength(data),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function get(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}

/** The pids of a process's children, from /proc (the cluster's workers). */
async function childPids(pid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) pids.push(Number(entry));
  }
  return pids.sort();
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function postEvents(port: number, requests: number, perRequest: number): Promise<string[]> {
  const ids: string[] = [];
  for (let r = 0; r < requests; r++) {
    const batch = Array.from({ length: perRequest }, () => {
      const messageId = randomUUID();
      ids.push(messageId);
      return { type: 'track', event: 'Clustered', anonymousId: `anon-${r}`, messageId };
    });
    const res = await post(port, '/v1/batch', { batch });
    expect(res.status, res.text).toBe(200);
  }
  return ids;
}

function acceptedTotal(metrics: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('edge_events_accepted_total'));
  return Number(line?.split(' ').at(-1));
}

describe('the edge on two workers (node:cluster)', () => {
  it('serves from both, delivers every acknowledged event, counts them all, replaces a killed worker, stops on SIGTERM', async () => {
    const port = await freePort();
    const spoolDir = join(work, 'spool');
    const logFile = join(work, 'edge.log');
    const primary = spawnEdge(edgeEnv(port, spoolDir, 2), logFile);
    await vi.waitFor(
      async () => {
        if (primary.exitCode !== null)
          throw new Error(`edge exited early: ${await readFile(logFile, 'utf8')}`);
        expect((await get(port, '/readyz')).status).toBe(200);
        expect(await childPids(primary.pid!)).toHaveLength(2);
      },
      { timeout: 60_000, interval: 200 },
    );
    const workers = await childPids(primary.pid!);

    const first = await postEvents(port, 20, 5);
    await waitForMessageIds(reader, topic, first);
    // Each worker logs its index; both took requests (connections are handed out in turn), and
    // /metrics, whichever worker answers it, counts all of them, which neither worker alone has.
    for (let i = 0; i < 4; i++) {
      const m = await get(port, '/metrics');
      expect(acceptedTotal(m.text), `${m.status} ${m.text.slice(0, 3000)}`).toBe(first.length);
    }
    const log = await readFile(logFile, 'utf8');
    expect(log).toMatch(/"worker":0.*edge listening/);
    expect(log).toMatch(/"worker":1.*edge listening/);

    // A worker killed outright is replaced, and the edge keeps taking events meanwhile.
    process.kill(workers[1]!, 'SIGKILL');
    await vi.waitFor(
      async () => {
        const now = await childPids(primary.pid!);
        expect(now).toHaveLength(2);
        expect(now).not.toContain(workers[1]);
      },
      { timeout: 30_000, interval: 200 },
    );
    await vi.waitFor(async () => expect((await get(port, '/readyz')).status).toBe(200), { timeout: 30_000 });
    const second = await postEvents(port, 10, 5);
    await waitForMessageIds(reader, topic, [...first, ...second]);

    primary.kill('SIGTERM');
    expect(await exited(primary)).toBe(0);
    expect(await childPids(primary.pid!)).toEqual([]);
    expect(await readFile(logFile, 'utf8')).toContain('edge worker died; replacing it on its own spool');
    // Worker 1 spooled under its own directory, worker 0 in the configured one.
    expect(await readdir(spoolDir)).toContain('worker-1');
  });

  it('refuses to start when fewer workers would strand a spooled event', async () => {
    const spoolDir = join(work, 'stranded');
    await mkdir(join(spoolDir, 'worker-2'), { recursive: true });
    await writeFile(join(spoolDir, 'worker-2', '0000000000000001.seg'), Buffer.alloc(16, 1));
    const logFile = join(work, 'stranded.log');
    const edge = spawnEdge(edgeEnv(await freePort(), spoolDir, 2), logFile);
    expect(await exited(edge)).toBe(2);
    expect(await readFile(logFile, 'utf8')).toContain('worker-2');
  });
});
