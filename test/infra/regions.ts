/**
 * @module A multi-region Kafka topology on loopback: one single-node KRaft cluster per region,
 * one `central` cluster, and MirrorMaker 2 copying each region's `events` topic to central as
 * `<region>.events` (docs/regions.md). `npm run stack -- up --regions eu,us` runs it beside the
 * shared stack (its own ports and directories); the regions test starts a private one on free
 * ports and SIGKILLs a region's broker.
 *
 * The `events` topic is created in each region before MirrorMaker starts, so its readiness
 * (every `<region>.events` present on central) proves replication has begun.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { type KafkaHandle, probeKafka, runningKafkaPid, startKafka, stopKafka } from './kafka.ts';
import {
  type MirrorMakerHandle,
  probeMirrorMaker,
  runningMirrorMakerPid,
  startMirrorMaker,
  stopMirrorMaker,
} from './mirror-maker.ts';

export const CENTRAL = 'central';
const REGION_NAME = /^[a-z][a-z0-9]{0,15}$/;

export interface RegionsOptions {
  /** Region names in order, e.g. ['eu', 'us']; `central` is added. */
  regions: readonly string[];
  /** Cluster name → its broker and controller ports. */
  ports: Record<string, { port: number; controllerPort: number }>;
  /** Data of every cluster and of MirrorMaker, one directory each. */
  dataDir: string;
  logDir: string;
  topic?: string;
  partitions?: number;
  /** MirrorMaker's refresh and checkpoint interval (default 5 s). */
  intervalSeconds?: number;
  cache?: string;
}

export interface RegionsHandle {
  /** Region (and `central`) → its broker handle. */
  clusters: Record<string, KafkaHandle>;
  mirrorMaker: MirrorMakerHandle;
  /** Region → bootstrap servers, and central's. */
  brokers: Record<string, string[]>;
  /** Stops MirrorMaker, then every cluster. */
  stop(): Promise<void>;
}

/** Refuses names MirrorMaker's policy or a topic name would mangle (`.` separates the prefix). */
export function parseRegionList(list: string): string[] {
  const regions = list
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (regions.length === 0) throw new Error('--regions needs at least one region, e.g. eu,us');
  for (const r of regions) {
    if (!REGION_NAME.test(r) || r === CENTRAL) {
      throw new Error(`bad region name "${r}": lower-case letters and digits, not "${CENTRAL}"`);
    }
  }
  if (new Set(regions).size !== regions.length) throw new Error(`a region is listed twice: ${list}`);
  return regions;
}

/**
 * Ports from one base (the stack's KAFKA_PORT): central at base+100, the i-th region at
 * base+200+100·i, each controller one above its broker. Below 32768 for up to 40 regions.
 */
export function regionPorts(
  regions: readonly string[],
  base: number,
): Record<string, { port: number; controllerPort: number }> {
  const at = (offset: number) => ({ port: base + offset, controllerPort: base + offset + 1 });
  const ports: Record<string, { port: number; controllerPort: number }> = { [CENTRAL]: at(100) };
  regions.forEach((region, i) => {
    ports[region] = at(200 + 100 * i);
  });
  for (const [name, p] of Object.entries(ports)) {
    if (p.controllerPort > 32767) throw new Error(`port of ${name} above 32767: lower KAFKA_PORT`);
  }
  return ports;
}

function dirs(options: Pick<RegionsOptions, 'dataDir' | 'logDir'>, name: string) {
  return { dataDir: join(options.dataDir, name), logDir: join(options.logDir, name) };
}

async function ensureTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const admin = new kafkajs.Kafka({
    clientId: 'beacon-regions',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Starts every cluster in parallel, creates `events` in each region, then MirrorMaker. */
export async function startRegions(options: RegionsOptions): Promise<RegionsHandle> {
  const topic = options.topic ?? 'events';
  const names = [...options.regions, CENTRAL];
  const started: KafkaHandle[] = [];
  const clusters: Record<string, KafkaHandle> = {};
  try {
    const results = await Promise.allSettled(
      names.map(async (name) => {
        const ports = options.ports[name];
        if (!ports) throw new Error(`no ports for cluster ${name}`);
        const handle = await startKafka({
          ...ports,
          ...dirs(options, name),
          ...(options.cache === undefined ? {} : { cache: options.cache }),
        });
        started.push(handle);
        clusters[name] = handle;
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const brokers = Object.fromEntries(names.map((n) => [n, clusters[n]?.brokers ?? []]));
    for (const region of options.regions) {
      await ensureTopic(brokers[region] ?? [], topic, options.partitions ?? 6);
    }
    const mm2Dirs = dirs(options, 'mirror-maker');
    await mkdir(mm2Dirs.dataDir, { recursive: true });
    const mirrorMaker = await startMirrorMaker({
      sources: Object.fromEntries(options.regions.map((r) => [r, brokers[r] ?? []])),
      target: { alias: CENTRAL, brokers: brokers[CENTRAL] ?? [] },
      topics: topic,
      ...mm2Dirs,
      ...(options.intervalSeconds === undefined ? {} : { intervalSeconds: options.intervalSeconds }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
    });
    return {
      clusters,
      mirrorMaker,
      brokers,
      async stop() {
        await mirrorMaker.stop();
        await Promise.all(Object.values(clusters).map((c) => c.stop()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw error;
  }
}

/** Whether the topology of `options` runs, each part by its pid file. */
export async function regionsStatus(
  options: Pick<RegionsOptions, 'regions' | 'ports' | 'dataDir' | 'logDir'>,
): Promise<{ name: string; pid: number | undefined; answers: boolean; endpoint: string }[]> {
  const names = [...options.regions, CENTRAL];
  const rows = await Promise.all(
    names.map(async (name) => {
      const pid = await runningKafkaPid(dirs(options, name).dataDir);
      const endpoint = `127.0.0.1:${options.ports[name]?.port}`;
      const answers =
        pid !== undefined &&
        (await probeKafka([endpoint], 5000).then(
          () => true,
          () => false,
        ));
      return { name, pid, answers, endpoint };
    }),
  );
  const mmPid = await runningMirrorMakerPid(dirs(options, 'mirror-maker').dataDir);
  const central = [`127.0.0.1:${options.ports[CENTRAL]?.port}`];
  const replicas = options.regions.map((r) => `${r}.events`);
  const mmAnswers =
    mmPid !== undefined &&
    (await probeMirrorMaker(central, replicas).then(
      () => true,
      () => false,
    ));
  rows.push({ name: 'mirror-maker', pid: mmPid, answers: mmAnswers, endpoint: replicas.join(', ') });
  return rows;
}

/** Stops MirrorMaker, then the clusters, by their pid files (whatever the region list). */
export async function stopRegions(
  options: Pick<RegionsOptions, 'regions' | 'dataDir' | 'logDir'>,
): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  result['mirror-maker'] = await stopMirrorMaker(dirs(options, 'mirror-maker').dataDir);
  await Promise.all(
    [...options.regions, CENTRAL].map(async (name) => {
      result[name] = await stopKafka(dirs(options, name).dataDir);
    }),
  );
  return result;
}
