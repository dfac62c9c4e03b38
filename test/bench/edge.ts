/**
 * @module Benchmark: events per second the Node edge acknowledges and that
 * are then on Kafka (the shared stack's broker), at batch sizes 1, 20 and
 * 100, against the ceiling of a bare node:http handler that only parses the
 * same JSON and answers 200. Load comes from autocannon in a child process,
 * for a fixed duration per row; the two servers run one at a time in this
 * process. Events carry no messageId, so the edge mints one per event and
 * every acknowledged event is a distinct Kafka message: the topic's
 * watermarks must grow by at least the acknowledged count.
 *
 * Every row also reports what it cost: CPU seconds of this process (the edge,
 * or the bare server; both run here, one at a time) and of the broker and
 * autocannon, each read from /proc/<pid>/stat, so "events per edge
 * CPU-second" is the edge's own cost, the broker's apart; the peak RSS; the
 * latency at half the rate the edge just reached; and the ratio to the bare
 * ceiling measured in the same run, with the load average, because absolute
 * numbers on a shared machine move with its load. The issue's goals are
 * printed last, each with this run's figure.
 *
 * Run: `npm run bench:edge` (`-- --duration 5 --connections 32`).
 *
 * Over 300 lines: a benchmark whose rows share the broker, the load
 * generator and the report.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import * as inspector from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { edgeConfigSchema, parseEdgeConfig } from '../../edge/config.ts';
import { startEdge } from '../../edge/node.ts';
import { deleteTopic, freePort } from '../../edge/testing/edge-it-fixture.ts';
import type { EventBus } from '../../shared/bus/bus.ts';
import { createKafkaBus } from '../../shared/bus/kafka/kafka-bus.ts';
import { openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { createPlatformaticKafkaBus } from '../../shared/bus/platformatic-kafka/platformatic-kafka-bus.ts';
import { runningKafkaPid } from '../infra/kafka.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import { stackServerDirs } from '../infra/stack-layout.ts';
import { benchEvent, type LoadResult, loadAverage, runAutocannon } from './autocannon-load.ts';
import { benchWorker } from './edge-worker.ts';
import { threadCpuDelta, threadCpuSeconds } from './thread-cpu.ts';

const program = new Command()
  .name('bench:edge')
  .description('Node edge vs a bare node:http JSON handler, events/s acknowledged and on Kafka')
  .option('--duration <s>', 'seconds of load per row', '10')
  .option('--connections <n>', 'concurrent connections of autocannon', '32')
  .option('--batch-sizes <list>', 'events per request', '1,20,100')
  .option('--brokers <list>', 'comma-separated brokers (default: the shared stack’s)')
  .option('--no-ceiling', 'skip the bare node:http rows (to profile the edge alone)')
  .option('--warmup <s>', 'seconds of unmeasured load before each server’s rows (JIT, connections)', '2')
  .option('--profile <dir>', 'write a CPU profile of each measured edge row (not the warm-up) to <dir>')
  .option('--no-half-rate', 'skip the latency run at half the maximum rate')
  .option('--broker-pid <pid>', 'the broker process whose CPU to report (default: the shared stack’s)')
  .option(
    '--bus <kind>',
    'kafka (the product), spool (Kafka down: every group fsynced to the disk spool), or local (the embedded log, fsync interval: the pipeline without Kafka)',
    'kafka',
  )
  .option('--client <name>', 'Kafka client of the edge: kafkajs or platformatic (default: the edge config’s)')
  .option(
    '--compression <codec>',
    'the edge producer’s compression: lz4 (the edge config’s default), gzip, none, or on platformatic also snappy, zstd',
  )
  .option(
    '--worker',
    'the Worker path instead: wrangler dev (workerd, its Queue) → a Node relay → Kafka (edge-worker.ts)',
  )
  .option('--in-flight <n>', 'sink.maxInFlight of the edge (groups produced at once)')
  .option('--group-messages <n>', 'sink.maxBatchMessages of the edge (events in one produce)');
program.parse();
const opts = program.opts<{
  duration: string;
  connections: string;
  batchSizes: string;
  brokers?: string;
  ceiling: boolean;
  halfRate: boolean;
  warmup: string;
  profile?: string;
  brokerPid?: string;
  inFlight?: string;
  groupMessages?: string;
  bus: string;
  client?: string;
  compression?: string;
  worker?: boolean;
}>();
const { client: kafkaClient, compression: defaultCompression } = edgeConfigSchema.shape.kafka.parse(
  opts.client ? { client: opts.client } : {},
);
const duration = Number(opts.duration);
const connections = Number(opts.connections);
const batchSizes = opts.batchSizes.split(',').map(Number);
const spoolOnly = opts.bus === 'spool';
// Kafka down: a broker address nothing listens on, so every produce fails and the edge spools.
const brokers = spoolOnly
  ? [`127.0.0.1:${await freePort()}`]
  : (opts.brokers ?? readStackEnv().KAFKA_BROKERS).split(',');
const WRITE_KEY = 'wk_bench_0123456789';
const AUTH = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

/**
 * One measured load of the edge or the bare server (autocannon-load.ts).
 * `watch`: processes whose CPU time is read before and after (name → pid).
 */
function load(
  url: string,
  bodyFile: string,
  watch: Record<string, number>,
  rate?: number,
  seconds = duration,
): Promise<LoadResult> {
  return runAutocannon({
    url,
    bodyFile,
    headers: ['content-type=application/json', `authorization=${AUTH}`],
    connections,
    seconds,
    ...(rate === undefined ? {} : { rate }),
    watch: Object.fromEntries(Object.entries(watch).map(([name, pid]) => [name, () => [pid]])),
  });
}

/** This process's CPU profile (node:inspector), for the measured load only: no start-up, no warm-up. */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Unmeasured load first, so JIT compilation and connection set-up stay out of the rows. */
async function warmUp(url: string, bodyFile: string): Promise<void> {
  const seconds = Number(opts.warmup);
  if (seconds > 0) await load(url, bodyFile, {}, undefined, seconds);
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
  const reader: EventBus | undefined =
    local ?? (spoolOnly ? undefined : createKafkaBus({ brokers, clientId: 'bench-edge-reader' }));
  // A compression other than the default: the edge gets a bus built here with it.
  const producer: EventBus | undefined =
    local ??
    (opts.compression === undefined
      ? undefined
      : kafkaClient === 'platformatic'
        ? createPlatformaticKafkaBus({
            brokers,
            clientId: 'bench-edge',
            compression: opts.compression as 'gzip',
          })
        : createKafkaBus({ brokers, clientId: 'bench-edge', compression: opts.compression as 'gzip' }));
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
      ...(spoolOnly ? { shutdownGraceMs: 500 } : {}),
      sink: {
        ...edgeConfigSchema.shape.sink.parse(undefined),
        ...(opts.inFlight ? { maxInFlight: Number(opts.inFlight) } : {}),
        ...(opts.groupMessages ? { maxBatchMessages: Number(opts.groupMessages) } : {}),
      },
    }),
    { logger: pino({ level: 'error' }), ...(producer ? { bus: producer } : {}) },
  );
  const bare = await startBareServer();
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const brokerPid = local || spoolOnly ? undefined : await brokerProcess();
  const watch: Record<string, number> = { self: process.pid, ...(brokerPid ? { broker: brokerPid } : {}) };
  const loadBefore = loadAverage();
  const rows: Row[] = [];
  try {
    for (let waited = 0; reader && (await reader.watermarks(topic).catch(() => [])).length === 0; waited++) {
      if (waited > 120) throw new Error(`topic ${topic} was never created`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const size of batchSizes) {
      const bodyFile = join(work, `batch-${size}.json`);
      const body = JSON.stringify({ batch: Array.from({ length: size }, (_, i) => benchEvent(i)) });
      await writeFile(bodyFile, body);

      await warmUp(`${edge.url}/v1/batch`, bodyFile);
      const before = reader ? await totalMessages(reader, topic) : 0;
      const spooledBefore = edge.sink.stats().spooled;
      const profiler = opts.profile ? await startProfiler() : undefined;
      const threadsBefore = threadCpuSeconds(process.pid);
      const edgeRun = await load(`${edge.url}/v1/batch`, bodyFile, watch);
      const threads = threadCpuDelta(threadsBefore, threadCpuSeconds(process.pid));
      if (profiler) {
        const file = join(opts.profile!, `edge-batch-${size}.cpuprofile`);
        await profiler.stop(file);
        // Beside it, what the profile covered: the summary divides by these counts.
        const events = edgeRun.ok * size;
        await writeFile(
          `${file}.json`,
          JSON.stringify({ events, requests: edgeRun.ok, cpu: edgeRun.cpu, threads }),
        );
      }
      // Latency where the edge is not saturated: half the rate it just reached.
      const halfRun = opts.halfRate
        ? await load(`${edge.url}/v1/batch`, bodyFile, watch, edgeRun.ok / edgeRun.seconds / 2)
        : undefined;
      const acked = (edgeRun.ok + (halfRun?.ok ?? 0)) * size;
      // Acknowledged means durable; wait for any spooled part to be drained too.
      let onKafka = 0;
      for (let i = 0; reader && i < 600 && onKafka < acked; i++) {
        onKafka = (await totalMessages(reader, topic)) - before;
        if (onKafka < acked) await new Promise((r) => setTimeout(r, 100));
      }
      // Requests still in flight when autocannon stops are answered and produced but not
      // counted by it: Kafka may hold a few more than were counted, never fewer.
      const spooled = edge.sink.stats().spooled - spooledBefore;
      if (reader && onKafka < acked)
        throw new Error(`batch ${size}: ${acked} acknowledged, but only ${onKafka} on Kafka`);
      // Kafka down: what was acknowledged must be in the spool (fsynced before each 2xx).
      if (!reader && spooled < acked)
        throw new Error(`batch ${size}: ${acked} acknowledged, but only ${spooled} spooled`);

      if (opts.ceiling) await warmUp(bareUrl, bodyFile);
      const bareRun = opts.ceiling ? await load(bareUrl, bodyFile, { self: process.pid }) : undefined;
      const row: Row = {
        size,
        bytesPerEvent: Math.round(body.length / size),
        edge: edgeRun,
        half: halfRun,
        bare: bareRun,
        spooled,
        threads,
      };
      rows.push(row);
      process.stderr.write(
        `batch ${size}: edge ${fmt(rate(edgeRun, size))} ev/s, ${fmt(perCpu(edgeRun, size))} ev per edge CPU-s` +
          (bareRun ? `, bare ${fmt(rate(bareRun, size))} ev/s` : '') +
          ` (edge threads, CPU s: ${Object.entries(threads)
            .map(([name, sec]) => `${name} ${sec}`)
            .join(', ')}; load ${loadAverage()})\n`,
      );
    }
  } finally {
    await edge.close();
    await new Promise((r) => bare.close(r));
    await reader?.close();
    if (producer && producer !== local) await producer.close();
    if (reader && !local) await deleteBenchTopic(topic);
    await rm(work, { recursive: true, force: true });
  }
  const header = [
    'batch',
    'B/event',
    'edge ev/s (on the bus)',
    'edge req/s',
    'edge p50/p99 ms',
    'p50/p99 ms at half rate',
    'non-2xx',
    'spooled',
    'edge CPU s',
    'of which main thread',
    'broker CPU s',
    'autocannon CPU s',
    'ev per edge CPU-s',
    'edge peak RSS MiB',
    'bare ev/s',
    'bare p50/p99 ms',
    'bare CPU s',
    'bare ev per CPU-s',
    'edge/bare ev/s',
  ];
  const na = '–';
  console.log(
    `\nNode ${process.version}, ${cpus().length} cores, ${connections} connections, ${duration} s per row, ` +
      `${local ? 'local log' : spoolOnly ? 'Kafka down: the disk spool' : `Kafka ${brokers.join(',')} (client ${kafkaClient}, ${opts.compression ?? defaultCompression}, broker pid ${brokerPid ?? 'unknown'})`}, ` +
      `load average ${loadBefore} at start, ${loadAverage()} at end\n`,
  );
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const e = r.edge;
    console.log(
      `| ${[
        r.size,
        r.bytesPerEvent,
        fmt(rate(e, r.size)),
        fmt(e.ok / e.seconds),
        `${e.p50}/${e.p99}`,
        r.half ? `${r.half.p50}/${r.half.p99}` : na,
        e.non2xx + e.errors + (r.half ? r.half.non2xx + r.half.errors : 0),
        r.spooled,
        e.cpu.self!.toFixed(1),
        (r.threads.main ?? 0).toFixed(1),
        e.cpu.broker === undefined ? na : e.cpu.broker.toFixed(1),
        e.cpu.loadgen!.toFixed(1),
        fmt(perCpu(e, r.size)),
        Math.round(e.peakRssMiB),
        r.bare ? fmt(rate(r.bare, r.size)) : na,
        r.bare ? `${r.bare.p50}/${r.bare.p99}` : na,
        r.bare ? r.bare.cpu.self!.toFixed(1) : na,
        r.bare ? fmt(perCpu(r.bare, r.size)) : na,
        r.bare ? ratio(rate(e, r.size), rate(r.bare, r.size)) : na,
      ].join(' | ')} |`,
    );
  }
  printGoals(rows);
}

interface Row {
  size: number;
  bytesPerEvent: number;
  edge: LoadResult;
  half: LoadResult | undefined;
  bare: LoadResult | undefined;
  spooled: number;
  /** The edge's CPU seconds in its measured row by thread name (thread-cpu.ts). */
  threads: Record<string, number>;
}

/** Events per second of wall time that a run got acknowledged. */
function rate(r: LoadResult, size: number): number {
  return (r.ok * size) / r.seconds;
}

/** Events per CPU-second of the server process itself (the broker's and autocannon's CPU apart). */
function perCpu(r: LoadResult, size: number): number {
  return (r.ok * size) / r.cpu.self!;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** The issue's goals, each with this run's figure beside it. */
function printGoals(rows: Row[]): void {
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log('\nGoals (this run):');
  const big = rows.find((r) => r.size === 100);
  if (big) {
    const v = perCpu(big.edge, 100);
    console.log(
      `- batch 100: ${fmt(v)} events per edge CPU-second (broker ${big.edge.cpu.broker?.toFixed(1) ?? '?'} CPU s apart), goal ≥ 150,000: ${mark(v >= 150_000)}`,
    );
  }
  for (const r of rows) {
    if (!r.bare) continue;
    const q = rate(r.edge, r.size) / rate(r.bare, r.size);
    console.log(
      `- batch ${r.size}: edge/bare = ${fmt(rate(r.edge, r.size))} / ${fmt(rate(r.bare, r.size))} = ${q.toFixed(2)}, goal ≥ 0.5: ${mark(q >= 0.5)}`,
    );
  }
  for (const r of rows) {
    if (!r.half) continue;
    console.log(
      `- batch ${r.size}: p99 at half the max rate (${fmt(r.half.ok / r.half.seconds)} req/s) = ${r.half.p99} ms, goal < 50: ${mark(r.half.p99 < 50)}`,
    );
  }
}

/** The shared stack's broker process, when the benchmark uses that broker (else --broker-pid). */
async function brokerProcess(): Promise<number | undefined> {
  if (opts.brokerPid) return Number(opts.brokerPid);
  if (opts.brokers) return undefined;
  return runningKafkaPid(stackServerDirs('kafka').dataDir);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A bench topic gone after its row; a failure to delete it only leaves a topic behind. */
async function deleteBenchTopic(topic: string): Promise<void> {
  await deleteTopic(brokers, topic).catch(() => {});
}

if (opts.worker)
  await benchWorker({
    brokers,
    client: kafkaClient,
    batchSizes,
    connections,
    seconds: duration,
    warmupSeconds: Number(opts.warmup),
    deleteTopic: deleteBenchTopic,
  });
else await main();
