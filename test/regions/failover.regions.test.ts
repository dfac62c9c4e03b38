/**
 * Two regions, central and MirrorMaker 2, all private to this file (free ports, a temporary
 * directory; never the shared stack): an edge per region sends to its own cluster and fails
 * over to the other. Clients post to both edges throughout; eu's broker is SIGKILLed mid-stream,
 * the eu edge fails over to us, the broker comes back, the edge returns to eu. Then every event
 * an edge acknowledged must be on central's `eu.events` or `us.events` once MirrorMaker has
 * caught up, counted by distinct messageId. A failover can put one event in both regions
 * (an attempt that timed out may land after all): such duplicates are allowed on the bus,
 * counted and printed; the loader drops them by messageId. Replication lag (edge ack to
 * arrival on central) is measured and printed, not asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeHandle, startEdge } from '../../edge/node.ts';
import { edgeTestConfig, freePort, IT_WRITE_KEY } from '../../edge/testing/edge-it-fixture.ts';
import { CENTRAL, type RegionsHandle, startRegions } from '../infra/regions.ts';

const REGIONS = ['eu', 'us'] as const;
// kafkajs logs every refused connection while a broker is down.
const logger = pino({ level: 'silent' });
const auth = { authorization: `Basic ${btoa(`${IT_WRITE_KEY}:`)}`, 'content-type': 'application/json' };

let work: string;
let topology: RegionsHandle;
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
  const ports: Record<string, { port: number; controllerPort: number }> = {};
  for (const name of [...REGIONS, CENTRAL])
    ports[name] = { port: await freePort(), controllerPort: await freePort() };
  topology = await startRegions({
    regions: REGIONS,
    ports,
    dataDir: join(work, 'data'),
    logDir: join(work, 'logs'),
    partitions: 3,
    intervalSeconds: 2,
  });
  for (const [i, region] of REGIONS.entries()) {
    const other = REGIONS[(i + 1) % REGIONS.length] as string;
    edges[region] = await startEdge(
      edgeTestConfig({
        port: await freePort(),
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
  await consumer?.disconnect().catch(() => {});
  for (const edge of Object.values(edges)) await edge.close().catch(() => {});
  await topology?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let sequence = 0;
/** Posts one batch of 10 to a region's edge; records the messageIds it acknowledged. */
async function postBatch(region: string): Promise<number> {
  const edge = edges[region] as EdgeHandle;
  const batch = Array.from({ length: 10 }, () => {
    sequence += 1;
    return {
      type: 'track',
      event: 'Region',
      userId: `u${sequence % 11}`,
      messageId: `${region}-${sequence}`,
    };
  });
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
});
