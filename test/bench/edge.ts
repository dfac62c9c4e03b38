/**
 * @module Benchmark: events per second the Node edge acknowledges and that
 * are then on Kafka (the shared stack's broker), at batch sizes 1, 20 and
 * 100, against the ceiling of a bare node:http handler that only parses the
 * same JSON and answers 200. Load comes from autocannon in a child process,
 * for a fixed duration per row; the two servers run one at a time in this
 * process. Events carry no messageId, so the edge mints one per event and
 * every acknowledged event is a distinct Kafka message: the topic's
 * watermarks must grow by exactly the acknowledged count.
 *
 * Run: `npm run bench:edge` (`-- --duration 5 --connections 32`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { edgeConfigSchema, parseEdgeConfig } from '../../edge/config.ts';
import { startEdge } from '../../edge/node.ts';
import { freePort } from '../../edge/testing/edge-it-fixture.ts';
import type { EventBus } from '../../shared/bus/bus.ts';
import { createKafkaBus } from '../../shared/bus/kafka/kafka-bus.ts';
import { openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { readStackEnv } from '../infra/stack-env.ts';

const program = new Command()
  .name('bench:edge')
  .description('Node edge vs a bare node:http JSON handler, events/s acknowledged and on Kafka')
  .option('--duration <s>', 'seconds of load per row', '10')
  .option('--connections <n>', 'concurrent connections of autocannon', '32')
  .option('--batch-sizes <list>', 'events per request', '1,20,100')
  .option('--brokers <list>', 'comma-separated brokers (default: the shared stack’s)')
  .option('--no-ceiling', 'skip the bare node:http rows (to profile the edge alone)')
  .option(
    '--bus <kind>',
    'kafka (the product) or local (the embedded log, fsync interval: the pipeline without Kafka)',
    'kafka',
  )
  .option('--client <name>', 'Kafka client of the edge: kafkajs or platformatic', 'kafkajs')
  .option('--in-flight <n>', 'sink.maxInFlight of the edge (groups produced at once)')
  .option('--group-messages <n>', 'sink.maxBatchMessages of the edge (events in one produce)');
program.parse();
const opts = program.opts<{
  duration: string;
  connections: string;
  batchSizes: string;
  brokers?: string;
  ceiling: boolean;
  inFlight?: string;
  groupMessages?: string;
  bus: string;
  client: string;
}>();
if (opts.client !== 'kafkajs' && opts.client !== 'platformatic') {
  throw new Error(`--client must be kafkajs or platformatic, not ${opts.client}`);
}
const kafkaClient: 'kafkajs' | 'platformatic' = opts.client;
const duration = Number(opts.duration);
const connections = Number(opts.connections);
const batchSizes = opts.batchSizes.split(',').map(Number);
const brokers = (opts.brokers ?? readStackEnv().KAFKA_BROKERS).split(',');
const WRITE_KEY = 'wk_bench_0123456789';
const AUTH = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

/** A browser page view as analytics.js sends it, ~600 bytes, without a messageId. */
function event(i: number) {
  return {
    type: i % 3 === 0 ? 'track' : 'page',
    event: 'Product Viewed',
    name: 'Product',
    anonymousId: `anon-${(i * 7919).toString(36)}`,
    timestamp: new Date().toISOString(),
    properties: {
      path: '/products/42',
      url: 'https://shop.example/products/42',
      price: 19.99,
      currency: 'EUR',
    },
    context: {
      locale: 'de-DE',
      page: { path: '/products/42', referrer: 'https://search.example/?q=shoes', title: 'Shoes' },
      library: { name: 'analytics.js', version: '5.2.0' },
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    },
  };
}

interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** autocannon in a child process, so the load generator does not share our event loop. */
async function load(url: string, bodyFile: string): Promise<LoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [cli, '-j', '-c', String(connections), '-d', String(duration), '-m', 'POST'];
  args.push('-H', 'content-type=application/json', '-H', `authorization=${AUTH}`, '-i', bodyFile, url);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as {
    '2xx': number;
    non2xx: number;
    errors: number;
    duration: number;
    latency: { p50: number; p99: number };
  };
  return {
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

/** The ceiling: read the body, parse it, answer 200. */
function startBareServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
    });
  });
  return freePort().then(
    (port) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server))),
  );
}

async function totalMessages(bus: EventBus, topic: string): Promise<number> {
  return (await bus.watermarks(topic)).reduce((sum, w) => sum + w.high - w.low, 0);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-edge-'));
  const topic = `bench-edge-${Date.now().toString(36)}`;
  const local =
    opts.bus === 'local' ? await openLocalLogBus({ dir: join(work, 'bus'), fsync: 'interval' }) : undefined;
  const reader: EventBus = local ?? createKafkaBus({ brokers, clientId: 'bench-edge-reader' });
  const edge = await startEdge(
    parseEdgeConfig({
      port: await freePort(),
      projects: [
        {
          id: 'bench',
          writeKeys: [WRITE_KEY],
          rateLimit: { perSecond: 100_000_000, burst: 100_000_000 },
        },
      ],
      ipSalt: 'bench-salt-0123456789',
      kafka: { brokers, topic, partitions: 6, clientId: 'bench-edge', client: kafkaClient },
      spool: { dir: join(work, 'spool') },
      sink: {
        ...edgeConfigSchema.shape.sink.parse(undefined),
        ...(opts.inFlight ? { maxInFlight: Number(opts.inFlight) } : {}),
        ...(opts.groupMessages ? { maxBatchMessages: Number(opts.groupMessages) } : {}),
      },
    }),
    { logger: pino({ level: 'error' }), ...(local ? { bus: local } : {}) },
  );
  const bare = await startBareServer();
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const rows: string[][] = [];
  try {
    for (let waited = 0; (await reader.watermarks(topic).catch(() => [])).length === 0; waited++) {
      if (waited > 120) throw new Error(`topic ${topic} was never created`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const size of batchSizes) {
      const bodyFile = join(work, `batch-${size}.json`);
      const body = JSON.stringify({ batch: Array.from({ length: size }, (_, i) => event(i)) });
      await writeFile(bodyFile, body);

      const before = await totalMessages(reader, topic);
      const spooledBefore = edge.sink.stats().spooled;
      const edgeRun = await load(`${edge.url}/v1/batch`, bodyFile);
      const acked = edgeRun.ok * size;
      // Acknowledged means durable; wait for any spooled part to be drained too.
      let onKafka = 0;
      for (let i = 0; i < 600 && onKafka < acked; i++) {
        onKafka = (await totalMessages(reader, topic)) - before;
        if (onKafka < acked) await new Promise((r) => setTimeout(r, 100));
      }
      // Requests still in flight when autocannon stops are answered and produced but not
      // counted by it: Kafka may hold a few more than were counted, never fewer.
      if (onKafka < acked)
        throw new Error(`batch ${size}: ${acked} acknowledged, but only ${onKafka} on Kafka`);
      const spooled = edge.sink.stats().spooled - spooledBefore;

      const bareRun = opts.ceiling
        ? await load(bareUrl, bodyFile)
        : { ok: Number.NaN, non2xx: 0, errors: 0, seconds: 1, p50: Number.NaN, p99: Number.NaN };
      const edgeRate = acked / edgeRun.seconds;
      const bareRate = (bareRun.ok * size) / bareRun.seconds;
      rows.push([
        String(size),
        `${Math.round(body.length / size)}`,
        fmt(edgeRate),
        fmt(edgeRun.ok / edgeRun.seconds),
        `${edgeRun.p50}/${edgeRun.p99}`,
        String(edgeRun.non2xx + edgeRun.errors),
        String(spooled),
        fmt(bareRate),
        `${bareRun.p50}/${bareRun.p99}`,
        `${((100 * edgeRate) / bareRate).toFixed(1)}%`,
      ]);
      process.stderr.write(`batch ${size}: edge ${fmt(edgeRate)} ev/s, bare ${fmt(bareRate)} ev/s\n`);
    }
  } finally {
    await edge.close();
    await new Promise((r) => bare.close(r));
    await reader.close();
    if (!local) await deleteTopic(topic);
    await rm(work, { recursive: true, force: true });
  }
  const header = [
    'batch',
    'B/event',
    'edge ev/s (on the bus)',
    'edge req/s',
    'edge p50/p99 ms',
    'edge non-2xx',
    'spooled',
    'bare ev/s',
    'bare p50/p99 ms',
    'edge/bare',
  ];
  console.log(
    `\nNode ${process.version}, ${connections} connections, ${duration} s per row, Kafka ${brokers.join(',')}\n`,
  );
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function deleteTopic(topic: string): Promise<void> {
  const admin = new kafkajs.Kafka({
    brokers,
    clientId: 'bench-edge-cleanup',
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}

await main();
