/**
 * Two regions, central and MirrorMaker 2, private to this file (their own directory, and ports
 * derived from the stack's KAFKA_PORT so that engineers and CI sharing a machine never meet: see
 * `testPorts`): an edge per region sends to its own cluster and fails over to the other.
 * Clients post to both edges throughout; eu's broker is SIGKILLed mid-stream, the eu edge fails
 * over to us, the broker comes back, the edge returns to eu. Then every event an edge
 * acknowledged must be on central's `eu.events` or `us.events` once MirrorMaker has caught up,
 * counted by distinct messageId. A failover can put one event in both regions (an attempt that
 * timed out may land after all): such duplicates are allowed on the bus, counted and printed.
 * Replication lag (edge ack to arrival on central) is measured and printed, not asserted.
 *
 * Then the warehouse: two scaled-out `loader run` processes load central's replica topics by
 * pattern into the shared stack's s3proxy and HiveServer2 (the project's global setup; its
 * Kafka is not used: the loaders' bus is central), and HiveServer2 counts every acknowledged
 * event once: none lost, none twice, failover duplicates dropped by messageId.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeHandle, startEdge } from '../../edge/node.ts';
import { edgeTestConfig, IT_WRITE_KEY } from '../../edge/testing/edge-it-fixture.ts';
import { testSettings, uniqueId } from '../../loader/fixtures/loader-harness.ts';
import {
  cleanupRealHarness,
  openRealPorts,
  type RealPorts,
  writeLoaderConfig,
} from '../../loader/fixtures/real-ports.ts';
import { spawnLoader } from '../../loader/fixtures/spawn-loader.ts';
import { CENTRAL, type RegionsHandle, regionPorts, startRegions } from '../infra/regions.ts';
import { readStackEnv, type StackEnv } from '../infra/stack-env.ts';
import { stackPorts } from '../infra/stack-layout.ts';

const REGIONS = ['eu', 'us'] as const;
// kafkajs logs every refused connection while a broker is down.
const logger = pino({ level: 'silent' });
const auth = { authorization: `Basic ${btoa(`${IT_WRITE_KEY}:`)}`, 'content-type': 'application/json' };

/**
 * Fixed offsets from the stack's KAFKA_PORT, not random free ports: a random port in 20000-32000
 * could be another engineer's stack port while that stack is down, and break its next start.
 * The clusters sit 600-801 above KAFKA_PORT (regionPorts from base+500: central +600, eu +700,
 * us +800, controllers one above), clear of `npm run stack -- up --regions` (+100 to +301); the
 * edges at +900 and +901.
 */
function testPorts() {
  const base = stackPorts().kafka + 500;
  const clusters = regionPorts(REGIONS, base);
  const edgePorts = REGIONS.map((_, i) => base + 400 + i);
  if (edgePorts.some((p) => p > 32767)) throw new Error('KAFKA_PORT too high for the regions test');
  return { clusters, edges: edgePorts };
}

let work: string;
let topology: RegionsHandle;
/** The shared stack's S3 and Hive, with central as the Kafka cluster (never the stack's own). */
let centralEnv: StackEnv;
let warehouse: RealPorts | undefined;
let loaderSettings: ReturnType<typeof testSettings> | undefined;
const edges: Record<string, EdgeHandle> = {};
let consumer: kafkajs.Consumer | undefined;
/** messageId → ms when an edge acknowledged it. */
const acked = new Map<string, number>();
/** messageId → ms when it first appeared on central, and the replica topics it appeared in. */
const arrived = new Map<string, { at: number; topics: Set<string> }>();
let copies = 0;
const connectionErrors: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'regions-'));
  const ports = testPorts();
  topology = await startRegions({
    regions: REGIONS,
    ports: ports.clusters,
    dataDir: join(work, 'data'),
    logDir: join(work, 'logs'),
    partitions: 3,
    intervalSeconds: 2,
  });
  for (const [i, region] of REGIONS.entries()) {
    const other = REGIONS[(i + 1) % REGIONS.length] as string;
    edges[region] = await startEdge(
      edgeTestConfig({
        port: ports.edges[i] as number,
        brokers: [],
        topic: 'events',
        spoolDir: join(work, `spool-${region}`),
        overrides: {
          kafka: {
            regions: [
              { name: region, brokers: topology.brokers[region] ?? [] },
              { name: other, brokers: topology.brokers[other] ?? [] },
            ],
            topic: 'events',
            partitions: 3,
            clientId: `edge-${region}`,
            // Generous for two loaded cores: a produce slower than this fails over.
            failover: { attemptTimeoutMs: 4000, probeIntervalMs: 1000 },
          },
          sink: { produceTimeoutMs: 8000 },
        },
      }),
      { logger },
    );
  }
  centralEnv = { ...readStackEnv(), KAFKA_BROKERS: (topology.brokers[CENTRAL] ?? []).join(',') };
  // Arrival on central, as it happens: the replication lag is arrival minus acknowledgement.
  consumer = new kafkajs.Kafka({
    clientId: 'regions-test-central',
    brokers: topology.brokers[CENTRAL] ?? [],
    logLevel: kafkajs.logLevel.NOTHING,
  }).consumer({ groupId: `regions-test-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: REGIONS.map((r) => `${r}.events`), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const id = (JSON.parse(message.value?.toString() ?? '{}') as { messageId?: string }).messageId;
      if (!id) return;
      copies += 1;
      const seen = arrived.get(id) ?? { at: Date.now(), topics: new Set<string>() };
      seen.topics.add(topic);
      arrived.set(id, seen);
    },
  });
}, 420_000);

afterAll(async () => {
  if (warehouse && loaderSettings) await cleanupRealHarness(warehouse, loaderSettings);
  await warehouse?.close().catch(() => {});
  await consumer?.disconnect().catch(() => {});
  for (const edge of Object.values(edges)) await edge.close().catch(() => {});
  await topology?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let sequence = 0;
type Track = { type: 'track'; event: string; userId: string; messageId: string };
function newBatch(region: string): Track[] {
  return Array.from({ length: 10 }, () => {
    sequence += 1;
    return {
      type: 'track',
      event: 'Region',
      userId: `u${sequence % 11}`,
      messageId: `${region}-${sequence}`,
    };
  });
}

/** Posts one batch of 10 (new ones by default) to a region's edge; records the messageIds it acknowledged. */
async function postBatch(region: string, batch = newBatch(region)): Promise<number> {
  const edge = edges[region] as EdgeHandle;
  const res = await fetch(`${edge.url}/v1/batch`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ batch }),
  });
  await res.arrayBuffer();
  if (res.status === 200) {
    const now = Date.now();
    for (const e of batch) acked.set(e.messageId, now);
  }
  return res.status;
}

/** Two clients per region posting back to back until `stop` says so. */
function traffic(stop: { done: boolean }, statuses: number[]): Promise<void> {
  const client = async (region: string) => {
    while (!stop.done) {
      try {
        statuses.push(await postBatch(region));
      } catch (err) {
        // No answer at all (a keep-alive socket the edge closed as the client reused it):
        // nothing acknowledged, so nothing owed; a real client retries, and so does this one.
        connectionErrors.push(
          err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : String(err),
        );
        await sleep(100);
      }
    }
  };
  return Promise.all(REGIONS.flatMap((r) => [client(r), client(r)])).then(() => {});
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      const regions = Object.entries(edges).map(([name, e]) => ({
        edge: name,
        stats: e.regions?.stats(),
        sink: e.sink.stats(),
      }));
      throw new Error(
        `timed out waiting for ${what}; ${acked.size} acked; ${JSON.stringify(regions)}; ` +
          `${connectionErrors.length} requests without an answer, first: ${connectionErrors[0]}`,
      );
    }
    await sleep(200);
  }
}

async function metricsOf(edge: EdgeHandle): Promise<string> {
  return (await fetch(`${edge.url}/metrics`)).text();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Traffic on both edges; eu's broker SIGKILLed, failover to us, the broker back, the return to eu. */
async function outageAndReturn(): Promise<void> {
  const eu = edges.eu as EdgeHandle;
  await until('traffic before the outage', () => acked.size >= 400, 60_000);
  expect(eu.regions?.target).toBe('eu');
  const euBefore = eu.regions?.stats().find((s) => s.name === 'eu')?.produced ?? 0;
  expect(euBefore).toBeGreaterThan(0);

  await topology.clusters.eu?.kill();
  killedAtRef.count = acked.size;
  await until('the eu edge failing over to us', () => eu.regions?.target === 'us', 60_000);
  const usByEuEdge = () => eu.regions?.stats().find((s) => s.name === 'us')?.produced ?? 0;
  await until('eu edge events acknowledged by us', () => usByEuEdge() >= 100, 60_000);
  const during = await metricsOf(eu);
  expect(during).toMatch(/edge_region_failovers_total\{region="eu"\} [1-9]/);
  expect(during).toMatch(/edge_region_target\{region="us"\} 1/);

  await topology.clusters.eu?.restart();
  await until('the eu edge back on eu', () => eu.regions?.target === 'eu', 90_000);
  const euAfterReturn = eu.regions?.stats().find((s) => s.name === 'eu')?.produced ?? 0;
  await until(
    'eu taking events again',
    () => (eu.regions?.stats().find((s) => s.name === 'eu')?.produced ?? 0) > euAfterReturn + 100,
    120_000,
  );
}

const killedAtRef = { count: 0 };
/** Set once MirrorMaker has copied every acknowledged event: the load below needs it. */
let caughtUp = false;

describe('regions: edge failover and MirrorMaker 2 to central', () => {
  it('keeps every acknowledged event through a region outage, and central gets each one', async () => {
    const eu = edges.eu as EdgeHandle;
    const stop = { done: false };
    const statuses: number[] = [];
    const sending = traffic(stop, statuses);
    try {
      await outageAndReturn();
    } finally {
      stop.done = true;
      await sending;
    }

    // Every answer a 2xx: the outage cost clients nothing (the spool or us took the events).
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Requests that got no answer at all are few (a socket closed under a reused keep-alive).
    expect(connectionErrors.length, connectionErrors.slice(0, 3).join('; ')).toBeLessThan(
      statuses.length / 100,
    );
    expect(acked.size).toBeGreaterThan(killedAtRef.count);
    expect(eu.regions?.stats().find((s) => s.name === 'us')?.produced).toBeGreaterThanOrEqual(100);

    // MirrorMaker catches up: every acknowledged messageId on central.
    const caughtUpFrom = Date.now();
    await until(
      'MirrorMaker to copy every acknowledged event to central',
      () => [...acked.keys()].every((id) => arrived.has(id)),
      180_000,
    );
    const catchUpMs = Date.now() - caughtUpFrom;
    caughtUp = true;
    const onBoth = [...arrived.values()].filter((a) => a.topics.size > 1).length;
    const distinct = new Set([...acked.keys()].filter((id) => arrived.has(id))).size;
    expect(distinct).toBe(acked.size);
    // Some eu events went through us while eu was down: they are on central as us.events.
    const euViaUs = [...arrived.entries()].filter(
      ([id, a]) => id.startsWith('eu-') && a.topics.has('us.events'),
    ).length;
    expect(euViaUs).toBeGreaterThan(0);

    const lags = [...acked.entries()]
      .map(([id, at]) => (arrived.get(id)?.at ?? at) - at)
      .sort((a, b) => a - b);
    const stats = eu.regions?.stats() ?? [];
    console.log(
      `[regions] ${acked.size} events acknowledged, ${distinct} distinct on central (${copies} copies, ${onBoth} on both replicas); ` +
        `eu edge: ${stats.map((s) => `${s.name} ${s.produced} acked/${s.errors} errors/${s.failoversFrom} failovers`).join(', ')}; ` +
        `eu events via us: ${euViaUs}; spooled by the eu edge: ${eu.sink.stats().spooled}; ` +
        `replication lag ack→central p50 ${percentile(lags, 50)} ms, p95 ${percentile(lags, 95)} ms, max ${lags.at(-1)} ms ` +
        `(the max includes eu's outage); caught up ${catchUpMs} ms after the traffic stopped; ` +
        `${statuses.length} requests answered, ${connectionErrors.length} without an answer`,
    );
  });

  it('a scaled-out load of central into HiveServer2 holds each acknowledged event once', async () => {
    expect(caughtUp, 'the outage test above must have ended with MirrorMaker caught up').toBe(true);
    // A failover duplicate for certain (the outage above may leave none): one batch acknowledged by
    // both regions, as when a client's retry went to the other region, so central has it twice.
    const twice = newBatch('both');
    expect([await postBatch('eu', twice), await postBatch('us', twice)]).toEqual([200, 200]);
    await until(
      'MirrorMaker to copy the batch sent to both regions',
      () => twice.every((e) => arrived.get(e.messageId)?.topics.size === 2),
      120_000,
    );
    const started = Date.now();
    warehouse = await openRealPorts(centralEnv);
    loaderSettings = testSettings(uniqueId('regions'), { tempDir: join(work, 'loader-tmp') });
    // The central loader's configuration (docs/regions.md): every replica topic by pattern, one group.
    const config = await writeLoaderConfig(work, centralEnv, loaderSettings, {
      scaleOut: { enabled: true, topicPattern: '.*\\.events', sessionTimeoutMs: 6000 },
    });
    // Compaction has nothing closed to do here (the hours are current): a load only.
    const runs = await Promise.all([
      spawnLoader(config, ['run', '--no-compact']),
      spawnLoader(config, ['run', '--no-compact']),
    ]);
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
    const loadMs = Date.now() - started;

    const [row] = await warehouse.catalog.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS ids FROM ${loaderSettings.tables.events}`,
    );
    // Events on central that no client saw acknowledged: a request whose answer was lost.
    const unacknowledged = [...arrived.keys()].filter((id) => !acked.has(id)).length;
    expect(unacknowledged).toBeLessThanOrEqual(connectionErrors.length * 10);
    expect({ rows: Number(row?.n), distinct: Number(row?.ids) }).toEqual({
      rows: acked.size + unacknowledged,
      distinct: acked.size + unacknowledged,
    });
    const onBoth = [...arrived.values()].filter((a) => a.topics.size > 1).length;
    console.log(
      `[regions] loaded by 2 scaled-out loaders in ${(loadMs / 1000).toFixed(1)} s: HiveServer2 counts ` +
        `${Number(row?.n)} rows, ${Number(row?.ids)} distinct messageIds; ${acked.size} acknowledged, ` +
        `${unacknowledged} on central without an acknowledgement; ${copies} copies on central, ` +
        `${onBoth} on both replicas (dropped as duplicates)`,
    );
  });
});
