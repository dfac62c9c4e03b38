/**
 * @module `npm run bench:edge -- --worker`: the Worker path of the edge. The
 * real Worker (wrangler.toml, edge/worker) runs under `wrangler dev --local`
 * (workerd, Miniflare's in-memory Queue); its REGIONS point every region at
 * one Node relay started here (`startEdge` with the relay secret of
 * wrangler.toml's local configuration) that produces to the shared stack's
 * Kafka. Per batch size it measures
 *
 * - the Worker: requests/s and events/s acknowledged (a 2xx means on the
 *   Queue), latency, and the CPU seconds of wrangler and workerd together;
 * - the relay: events/s from the Queue's batches to Kafka, from the first to
 *   the last event that reached Kafka, and the events per CPU-second of this
 *   process (the relay, plus the benchmark's own polling of watermarks).
 *
 * Every acknowledged event must reach Kafka, or the run fails. The Queue's
 * consumer takes up to 100 messages or 2 s (wrangler.toml), so the relay's
 * rate is also bounded by how fast Miniflare hands out batches: it is the
 * path's rate, not the relay's capacity (the bench:edge Kafka rows measure
 * that pipeline under direct load).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseEdgeConfig } from '../../edge/config.ts';
import { startEdge } from '../../edge/node.ts';
import { freePort } from '../../edge/testing/edge-it-fixture.ts';
import type { EventBus } from '../../shared/bus/bus.ts';
import { createKafkaBus } from '../../shared/bus/kafka/kafka-bus.ts';
import {
  benchEvent,
  cpuSeconds,
  type LoadResult,
  loadAverage,
  processTree,
  runAutocannon,
} from './autocannon-load.ts';

export interface WorkerBenchOptions {
  brokers: string[];
  client: 'kafkajs' | 'platformatic';
  batchSizes: number[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
  deleteTopic(topic: string): Promise<void>;
}

/** wrangler.toml's local stand-ins: the Worker signs relay batches with RELAY_SECRET. */
const RELAY_SECRET = 'dev-only-relay-secret-0123456789';
const WRITE_KEY = 'wk_bench_0123456789';
const AUTH = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
const PROJECT = {
  id: 'bench',
  writeKeys: [WRITE_KEY],
  allowedOrigins: [],
  rateLimit: { perSecond: 100_000_000, burst: 100_000_000 },
};

interface WorkerRow {
  size: number;
  worker: LoadResult;
  delivered: number;
  /** Seconds from the first to the last event of the row that reached Kafka. */
  relaySeconds: number;
  /** CPU seconds of this process (the relay) from the start of the load until the last event reached Kafka. */
  relayCpu: number;
}

async function totalMessages(bus: EventBus, topic: string): Promise<number> {
  return (await bus.watermarks(topic)).reduce((sum, w) => sum + w.high - w.low, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `wrangler dev --local` of the real wrangler.toml, its regions all on one relay. */
async function startWrangler(relayUrl: string, dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const regions = {
    regions: { eu: [relayUrl], us: [relayUrl] },
    continents: {},
    colos: {},
    default: 'eu',
    failover: { eu: ['us'], us: ['eu'] },
  };
  // From PATH: `bash .ci/env.sh` (npm run bench:edge) puts node_modules/.bin and Node 24 first.
  const child = spawn(
    'wrangler',
    [
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(await freePort()),
      '--persist-to',
      join(dir, 'wrangler-state'),
      '--log-level',
      'error',
      '--show-interactive-dev-session=false',
      '--var',
      `REGIONS:${JSON.stringify(regions)}`,
      '--var',
      `PROJECTS:${JSON.stringify([PROJECT])}`,
      '--var',
      'LOG_LEVEL:error',
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited++) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    if (waited > 240) throw new Error('wrangler dev was not ready within 120 s');
    const ready = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, child };
    await sleep(500);
  }
}

async function stopTree(child: ChildProcess): Promise<void> {
  const pids = child.pid ? processTree(child.pid) : [];
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
  }
  // workerd, should wrangler have left it behind.
  for (const pid of pids.slice(1)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Waits until `expected` more events than `before` are on Kafka; the time of the first and last increase. */
async function awaitDelivery(
  reader: EventBus,
  topic: string,
  before: number,
  expected: number,
): Promise<{ delivered: number; first: number; last: number }> {
  let delivered = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  let lastChange = performance.now();
  while (delivered < expected) {
    const now = (await totalMessages(reader, topic)) - before;
    const t = performance.now();
    if (now > delivered) {
      if (Number.isNaN(first)) first = t;
      last = t;
      lastChange = t;
      delivered = now;
    } else if (t - lastChange > 60_000) {
      throw new Error(`${expected} events acknowledged by the Worker, only ${delivered} reached Kafka`);
    }
    if (delivered < expected) await sleep(50);
  }
  return { delivered, first, last };
}

export async function benchWorker(o: WorkerBenchOptions): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-edge-worker-'));
  const topic = `bench-edge-worker-${Date.now().toString(36)}`;
  const reader = createKafkaBus({ brokers: o.brokers, clientId: 'bench-edge-reader' });
  const relay = await startEdge(
    parseEdgeConfig({
      port: await freePort(),
      projects: [PROJECT],
      ipSalt: 'bench-salt-0123456789',
      relaySecret: RELAY_SECRET,
      kafka: { brokers: o.brokers, topic, partitions: 6, clientId: 'bench-relay', client: o.client },
      spool: { dir: join(work, 'spool') },
    }),
    { logger: pino({ level: 'error' }) },
  );
  const loadBefore = loadAverage();
  const rows: WorkerRow[] = [];
  let wrangler: { url: string; child: ChildProcess } | undefined;
  try {
    wrangler = await startWrangler(relay.url, work);
    const root = wrangler.child.pid!;
    for (let waited = 0; (await reader.watermarks(topic).catch(() => [])).length === 0; waited++) {
      if (waited > 120) throw new Error(`topic ${topic} was never created`);
      await sleep(250);
    }
    const loadOf = (bodyFile: string, seconds: number) =>
      runAutocannon({
        url: `${wrangler!.url}/v1/batch`,
        bodyFile,
        headers: ['content-type=application/json', `authorization=${AUTH}`],
        connections: o.connections,
        seconds,
        watch: { worker: () => processTree(root) },
      });
    for (const size of o.batchSizes) {
      const bodyFile = join(work, `batch-${size}.json`);
      await writeFile(
        bodyFile,
        JSON.stringify({ batch: Array.from({ length: size }, (_, i) => benchEvent(i)) }),
      );
      if (o.warmupSeconds > 0) {
        // Warm-up, and its events drained, so the measured row starts with an empty Queue.
        const before = await totalMessages(reader, topic);
        const w = await loadOf(bodyFile, o.warmupSeconds);
        await awaitDelivery(reader, topic, before, w.ok * size);
      }
      const before = await totalMessages(reader, topic);
      const relayCpuBefore = cpuSeconds(process.pid);
      const run = await loadOf(bodyFile, o.seconds);
      const d = await awaitDelivery(reader, topic, before, run.ok * size);
      rows.push({
        size,
        worker: run,
        delivered: d.delivered,
        relaySeconds: (d.last - d.first) / 1000,
        relayCpu: cpuSeconds(process.pid) - relayCpuBefore,
      });
      process.stderr.write(
        `worker batch ${size}: ${fmt((run.ok * size) / run.seconds)} ev/s into the Queue, ` +
          `relay ${fmt(d.delivered / ((d.last - d.first) / 1000))} ev/s to Kafka (load ${loadAverage()})\n`,
      );
    }
  } finally {
    if (wrangler) await stopTree(wrangler.child);
    await relay.close();
    await reader.close();
    await o.deleteTopic(topic);
    await rm(work, { recursive: true, force: true });
  }
  const header = [
    'batch',
    'Worker req/s',
    'Worker ev/s (on the Queue)',
    'p50/p99 ms',
    'non-2xx',
    'wrangler+workerd CPU s',
    'ev per workerd CPU-s',
    'autocannon CPU s',
    'relay ev/s (Queue → Kafka)',
    'relay CPU s',
    'ev per relay CPU-s',
  ];
  console.log(
    `\nThe Worker path: wrangler dev --local (workerd, Miniflare's Queue) → one Node relay (client ${o.client}) → Kafka ${o.brokers.join(',')}; ` +
      `Node ${process.version}, ${cpus().length} cores, ${o.connections} connections, ${o.seconds} s per row, ` +
      `load average ${loadBefore} at start, ${loadAverage()} at end\n`,
  );
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const w = r.worker;
    const events = w.ok * r.size;
    console.log(
      `| ${[
        r.size,
        fmt(w.ok / w.seconds),
        fmt(events / w.seconds),
        `${w.p50}/${w.p99}`,
        w.non2xx + w.errors,
        w.cpu.worker!.toFixed(1),
        fmt(events / w.cpu.worker!),
        w.cpu.loadgen!.toFixed(1),
        fmt(r.delivered / r.relaySeconds),
        r.relayCpu.toFixed(1),
        fmt(r.delivered / r.relayCpu),
      ].join(' | ')} |`,
    );
  }
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
