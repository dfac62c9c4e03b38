/**
 * @module Benchmark: kafkajs (the adapter's client) against @platformatic/kafka,
 * producing the same realistic ~500-byte enriched events to the shared stack's
 * real broker with an idempotent producer, acks=all and gzip, at batch sizes
 * 1, 20, 100 and 500 (one send awaited at a time, as one edge request does),
 * and with 8 sends in flight (as concurrent edge requests do); then consuming
 * what was produced. For context it also measures the bus adapters the
 * product uses: KafkaBus.read and the local log's produce and read.
 *
 * Bounded: a fixed message count per row; finishes by itself and deletes its
 * topics. Run: `npm run bench:kafka` (`-- --scale 0.1` for a quick pass).
 *
 * Over 300 lines: a benchmark whose rows share one broker, the topics' set-
 * up and the report.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Consumer as PlatformaticConsumer,
  Producer as PlatformaticProducer,
  ProduceAcks,
  stringSerializers,
} from '@platformatic/kafka';
import { Command } from 'commander';
import kafkajs from 'kafkajs';
import { createKafkaBus } from '../../shared/bus/kafka/kafka-bus.ts';
import { openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { type EnrichedEvent, eventKey } from '../../shared/event.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import { seededRandom } from '../seeded-random.ts';

const program = new Command()
  .name('bench:kafka')
  .description('kafkajs vs @platformatic/kafka against the shared stack’s broker')
  .option('--scale <factor>', 'multiply every message count (0.1 for a quick pass)', '1')
  .option('--partitions <n>', 'partitions of each bench topic', '3')
  .option('--repeat <n>', 'runs of each row, alternating which client goes first; the median is printed', '3')
  .option('--brokers <list>', 'comma-separated brokers (default: the shared stack’s)');
program.parse();
const opts = program.opts<{ scale: string; partitions: string; repeat: string; brokers?: string }>();
const repeat = Math.max(1, Number(opts.repeat));
const scale = Number(opts.scale);
const partitions = Number(opts.partitions);
const brokers = (opts.brokers ?? readStackEnv().KAFKA_BROKERS).split(',');
const run = Date.now().toString(36);

interface Msg {
  key: string;
  value: string;
}

/** Enriched events as the edge puts them on the bus: ~500 bytes of JSON, varied like real traffic. */
function makeEvents(count: number, seed: number): Msg[] {
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const pages = ['/', '/pricing', '/docs/getting-started', '/blog/launch', '/signup', '/checkout'];
  const events = ['Page Viewed', 'Signed Up', 'Product Added', 'Checkout Started', 'Order Completed'];
  const out: Msg[] = [];
  for (let i = 0; i < count; i++) {
    const user = Math.floor(random() * 5000);
    const at = new Date(1_795_600_000_000 + i * 37).toISOString();
    const event: EnrichedEvent = {
      type: random() < 0.6 ? 'page' : 'track',
      event: pick(events),
      messageId: `${run}-${seed}-${i}-${Math.floor(random() * 1e9).toString(36)}`,
      anonymousId: `anon-${user.toString(36)}-${(user * 7919).toString(36)}`,
      userId: random() < 0.3 ? `user-${user}` : null,
      timestamp: at,
      sentAt: at,
      receivedAt: at,
      projectId: `proj-${1 + Math.floor(random() * 20)}`,
      properties: {
        path: pick(pages),
        referrer: pick(['', 'https://news.example/', 'https://search.example/?q=x']),
      },
      context: {
        locale: pick(['en-US', 'de-DE', 'fr-FR', 'ja-JP']),
        page: { url: `https://shop.example${pick(pages)}` },
        library: { name: 'analytics.js', version: '5.2.0' },
      },
      enrichment: {
        ipHash: Math.floor(random() * 2 ** 48).toString(16),
        country: pick(['US', 'DE', 'FR', 'JP', 'BR']),
        userAgent: { browser: pick(['Chrome', 'Firefox', 'Safari']), browserVersion: '131.0', os: 'macOS' },
      },
    };
    out.push({ key: eventKey(event), value: JSON.stringify(event) });
  }
  return out;
}

function bytesOf(messages: Msg[]): number {
  let n = 0;
  for (const m of messages) n += Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
  return n;
}

interface Row {
  what: string;
  messages: number;
  seconds: number;
  bytes: number;
}
const rows: Row[] = [];
const createdTopics: string[] = [];

function record(what: string, messages: number, bytes: number, started: bigint): Row {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const row = { what, messages, seconds, bytes };
  rows.push(row);
  const rate = Math.round(messages / seconds);
  console.error(`  ${what}: ${messages} msgs in ${seconds.toFixed(2)} s = ${rate} msg/s`);
  return row;
}

const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

async function newTopic(name: string): Promise<string> {
  const topic = `bench-${run}-${name}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  createdTopics.push(topic);
  return topic;
}

/** Sends `messages` in batches of `batch`, keeping `inFlight` sends outstanding. */
async function sendAll(
  messages: Msg[],
  batch: number,
  inFlight: number,
  send: (chunk: Msg[]) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const chunk = messages.slice(next, next + batch);
      next += batch;
      await send(chunk);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

const kjsProducer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
});
await kjsProducer.connect();
const pfProducer = new PlatformaticProducer({
  clientId: 'bench-platformatic',
  bootstrapBrokers: brokers,
  idempotent: true,
  acks: ProduceAcks.ALL,
  compression: 'gzip',
  autocreateTopics: false,
  serializers: stringSerializers,
});

const produceWith = {
  kafkajs: (topic: string) => (chunk: Msg[]) =>
    kjsProducer.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.GZIP, messages: chunk }),
  platformatic: (topic: string) => (chunk: Msg[]) =>
    pfProducer.send({ messages: chunk.map((m) => ({ topic, key: m.key, value: m.value })) }),
};
type Client = keyof typeof produceWith;
const clients: Client[] = ['kafkajs', 'platformatic'];

// Warm-up: connections, metadata, producer ids and JIT, for both clients.
for (const client of clients) {
  const topic = await newTopic(`warmup-${client}`);
  await sendAll(makeEvents(2000, 1), 100, 1, produceWith[client](topic));
}

const plan = [
  { batch: 1, inFlight: 1, count: 5_000 },
  { batch: 20, inFlight: 1, count: 50_000 },
  { batch: 100, inFlight: 1, count: 100_000 },
  { batch: 500, inFlight: 1, count: 100_000 },
  { batch: 1, inFlight: 8, count: 5_000 },
  { batch: 20, inFlight: 8, count: 40_000 },
];
let consumeSource: { topic: string; count: number; bytes: number } | undefined;
console.error(`producing to ${brokers.join(',')} (${partitions} partitions, scale ${scale})`);
for (const step of plan) {
  const count = Math.max(step.batch, Math.round(step.count * scale));
  const messages = makeEvents(count, step.batch * 10 + step.inFlight);
  const bytes = bytesOf(messages);
  for (let rep = 0; rep < repeat; rep++) {
    // Alternate who goes first, so neither always meets a broker warmed (or tired) by the other.
    for (const client of rep % 2 === 0 ? clients : [...clients].reverse()) {
      const topic = await newTopic(`${client}-b${step.batch}-f${step.inFlight}-r${rep}`);
      const started = process.hrtime.bigint();
      await sendAll(messages, step.batch, step.inFlight, produceWith[client](topic));
      record(`produce ${client} batch ${step.batch} in-flight ${step.inFlight}`, count, bytes, started);
      if (step.batch === 100 && step.inFlight === 1 && client === 'kafkajs' && rep === 0) {
        consumeSource = { topic, count, bytes };
      }
    }
  }
}
await kjsProducer.disconnect();
await pfProducer.close();

// Consume: every reader takes the topic kafkajs wrote at batch 100, from the earliest offset
// through a fresh group, until it has every message (time includes joining the group).
async function consumeKafkajs(topic: string, count: number, bytes: number): Promise<void> {
  const consumer = kafka.consumer({ groupId: `bench-${run}-kjs-${rows.length}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  const started = process.hrtime.bigint();
  let firstAt = 0n;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (firstAt === 0n) firstAt = process.hrtime.bigint();
          seen += batch.messages.length;
          if (seen >= count) resolve();
        },
      })
      .catch(reject);
  });
  record('consume kafkajs (eachBatch)', count, bytes, started);
  console.error(`    first batch after ${(Number(firstAt - started) / 1e6).toFixed(0)} ms`);
  await consumer.disconnect();
}

async function consumePlatformatic(topic: string, count: number, bytes: number): Promise<void> {
  const consumer = new PlatformaticConsumer({
    clientId: 'bench-platformatic',
    groupId: `bench-${run}-pf-${rows.length}`,
    bootstrapBrokers: brokers,
  });
  const started = process.hrtime.bigint();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  let seen = 0;
  let firstAt = 0n;
  for await (const _message of stream) {
    if (firstAt === 0n) firstAt = process.hrtime.bigint();
    if (++seen >= count) break;
  }
  record('consume platformatic (stream)', count, bytes, started);
  console.error(`    first message after ${(Number(firstAt - started) / 1e6).toFixed(0)} ms`);
  await stream.close();
  await consumer.close(true);
}

async function consumeKafkaBus(topic: string, count: number, bytes: number): Promise<void> {
  const bus = createKafkaBus({ brokers, clientId: 'bench-bus' });
  const started = process.hrtime.bigint();
  let seen = 0;
  for (const w of await bus.watermarks(topic)) {
    for await (const batch of bus.read(topic, w.partition, w.low, w.high)) seen += batch.length;
  }
  if (seen !== count) throw new Error(`KafkaBus.read saw ${seen} of ${count}`);
  record('consume KafkaBus.read (kafkajs, one partition at a time)', count, bytes, started);
  await bus.close();
}

if (consumeSource === undefined) throw new Error('the plan has no batch-100 row to consume');
const { topic: consumeTopic, count: consumeCount, bytes: consumeBytes } = consumeSource;
for (let rep = 0; rep < repeat; rep++) {
  await consumeKafkajs(consumeTopic, consumeCount, consumeBytes);
  await consumePlatformatic(consumeTopic, consumeCount, consumeBytes);
  await consumeKafkaBus(consumeTopic, consumeCount, consumeBytes);
}

// The embedded adapter, for context: same events, same batches, on this machine's disk.
for (const fsync of ['always', 'interval'] as const) {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-bench-log-'));
  const bus = await openLocalLogBus({ dir, fsync });
  await bus.ensureTopic('events', partitions);
  for (const batch of [1, 20, 100]) {
    const count = Math.max(batch, Math.round((batch === 1 ? 5000 : 100_000) * scale));
    const messages = makeEvents(count, batch);
    const started = process.hrtime.bigint();
    await sendAll(messages, batch, 1, (chunk) => bus.produce('events', chunk));
    record(`produce local log fsync=${fsync} batch ${batch} in-flight 1`, count, bytesOf(messages), started);
  }
  if (fsync === 'always') {
    const marks = await bus.watermarks('events');
    const total = marks.reduce((n, w) => n + w.high - w.low, 0);
    const started = process.hrtime.bigint();
    let bytes = 0;
    for (const w of marks) {
      for await (const b of bus.read('events', w.partition, w.low, w.high)) {
        for (const m of b) bytes += m.value.length + (m.key?.length ?? 0);
      }
    }
    record('consume local log read', total, bytes, started);
  }
  await bus.close();
  await rm(dir, { recursive: true, force: true });
}

await admin.deleteTopics({ topics: createdTopics }).catch(() => {});
await admin.disconnect();

// The table: the median run of each row.
function median(what: string): Row {
  const runs = rows
    .filter((r) => r.what === what)
    .sort((a, b) => a.messages / a.seconds - b.messages / b.seconds);
  if (runs.length === 0) throw new Error(`no run of ${what}`);
  return runs[Math.floor((runs.length - 1) / 2)]!;
}
const mb = (r: Row) => r.bytes / r.seconds / 1e6;
const rate = (r: Row) => r.messages / r.seconds;
console.log(
  `\nKafka 4.3.1 on loopback, ${partitions} partitions, acks=all, idempotent, gzip; ` +
    `~${Math.round(consumeBytes / consumeCount)} B/event; median of ${repeat} run(s)\n`,
);
console.log(
  '| batch | in flight | messages | kafkajs msg/s | kafkajs MB/s | platformatic msg/s | platformatic MB/s | platformatic / kafkajs |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const step of plan) {
  const k = median(`produce kafkajs batch ${step.batch} in-flight ${step.inFlight}`);
  const p = median(`produce platformatic batch ${step.batch} in-flight ${step.inFlight}`);
  console.log(
    `| ${step.batch} | ${step.inFlight} | ${k.messages} | ${Math.round(rate(k))} | ${mb(k).toFixed(1)} | ` +
      `${Math.round(rate(p))} | ${mb(p).toFixed(1)} | ${(rate(p) / rate(k)).toFixed(2)} |`,
  );
}
console.log('\n| other | messages | msg/s | MB/s |');
console.log('|---|---:|---:|---:|');
const others = [...new Set(rows.map((r) => r.what))].filter(
  (w) => !/^produce (kafkajs|platformatic) /.test(w),
);
for (const what of others) {
  const r = median(what);
  console.log(`| ${what} | ${r.messages} | ${Math.round(rate(r))} | ${mb(r).toFixed(1)} |`);
}
