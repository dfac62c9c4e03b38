/**
 * @module MirrorMaker 2 (Kafka 4.3.1's `connect-mirror`) for tests and the regional stack: one
 * JVM in dedicated mode copying the `events` topic of each source cluster to the target
 * cluster as `<source>.events` (the default replication policy), with checkpoints and
 * consumer-offset sync. The settings that matter on single-node clusters: every internal
 * topic's replication factor is 1 (otherwise MM2 logs "started", copies nothing and loops on
 * "replication factor of 3 cannot be reached"), ACL sync off, the internal REST server off,
 * and refresh and checkpoint intervals of seconds rather than the default ten minutes.
 *
 * Ready means every `<source>.<topic>` exists on the target: replication has begun, not
 * merely the JVM. So the source topics must exist before the start (regions.ts creates them).
 *
 * CLI: node test/infra/mirror-maker.ts stop --dir /tmp/mm2
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import {
  type JavaServerDefinition,
  type JavaServerOptions,
  javaServerLogFiles,
  log4j2FileConfig,
  runningJavaServerPid,
  type ServerLifecycle,
  startJavaServer,
  stopJavaServer,
} from './java-server.ts';
import { withTimeout } from './with-timeout.ts';

export interface MirrorMakerOptions {
  /** Source cluster alias → its bootstrap servers (e.g. `{ eu: ['127.0.0.1:27192'] }`). */
  sources: Record<string, string[]>;
  /** The target's alias and bootstrap servers. */
  target: { alias: string; brokers: string[] };
  /** Topics copied from every source (a regex list, as MM2 reads it). */
  topics: string;
  /** mm2.properties and the log4j config (under conf/), and the pid file. */
  dataDir: string;
  /** mirror-maker.log and the JVM's own output. */
  logDir: string;
  /** Seconds between topic refreshes, checkpoints and group-offset syncs (default 5; MM2's own is 600 for topics). */
  intervalSeconds?: number;
  startTimeoutMs?: number;
  cache?: string;
}

export interface MirrorMakerHandle extends ServerLifecycle {
  /** The topics on the target that replication writes, e.g. `eu.events`. */
  replicatedTopics: string[];
}

const STOP_GRACE_MS = 15_000;

export function mirrorMakerLogFiles(logDir: string): string[] {
  return javaServerLogFiles({ logFiles: ['mirror-maker.log', 'mirror-maker.out'] }, logDir);
}

/** The mm2.properties for one-way flows from each source to the target. */
export function mirrorMakerProperties(options: MirrorMakerOptions): string {
  const interval = options.intervalSeconds ?? 5;
  const sources = Object.keys(options.sources);
  const { alias: target } = options.target;
  const lines = [
    '# Written by test/infra/mirror-maker.ts',
    `clusters = ${[...sources, target].join(', ')}`,
    ...Object.entries(options.sources).map(
      ([alias, brokers]) => `${alias}.bootstrap.servers = ${brokers.join(',')}`,
    ),
    `${target}.bootstrap.servers = ${options.target.brokers.join(',')}`,
    ...sources.flatMap((alias) => [
      `${alias}->${target}.enabled = true`,
      `${alias}->${target}.topics = ${options.topics}`,
      `${target}->${alias}.enabled = false`,
      `${alias}->${target}.emit.heartbeats.enabled = true`,
    ]),
    // Otherwise MM2 builds a herder (a Connect worker) for every ordered pair of clusters, to
    // emit heartbeats on the disabled flows too: six instead of two for two regions.
    'emit.heartbeats.enabled = false',
    // Connect scans every jar for plugins per herder (15 s each on a busy machine); the
    // ServiceLoader manifests say the same. A worker setting: given per target cluster.
    `${target}.plugin.discovery = service_load`,
    // Single-node clusters: every topic MM2 creates, its own and the replicas, with one copy.
    'replication.factor = 1',
    'checkpoints.topic.replication.factor = 1',
    'heartbeats.topic.replication.factor = 1',
    'offset-syncs.topic.replication.factor = 1',
    'offset.storage.replication.factor = 1',
    'status.storage.replication.factor = 1',
    'config.storage.replication.factor = 1',
    'sync.topic.acls.enabled = false',
    // Dedicated mode needs no REST server between workers when there is one worker.
    'dedicated.mode.enable.internal.rest = false',
    // Checkpoints map consumer offsets to the target, so a group can move to central.
    'emit.checkpoints.enabled = true',
    'sync.group.offsets.enabled = true',
    `emit.checkpoints.interval.seconds = ${interval}`,
    `sync.group.offsets.interval.seconds = ${interval}`,
    `refresh.topics.interval.seconds = ${interval}`,
    `refresh.groups.interval.seconds = ${interval}`,
    '',
  ];
  return lines.join('\n');
}

const LOG4J2 = log4j2FileConfig('mm2.logs.dir', 'mirror-maker.log', {
  'org.apache.kafka': 'warn',
  'org.apache.kafka.connect.mirror': 'info',
});

/** Resolves once every replicated topic exists on the target. */
export async function probeMirrorMaker(targetBrokers: string[], topics: readonly string[]): Promise<void> {
  const admin = new kafkajs.Kafka({
    clientId: 'beacon-mm2-probe',
    brokers: targetBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        const present = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !present.has(t));
        if (missing.length > 0) throw new Error(`not replicated yet: ${missing.join(', ')}`);
      })(),
      10_000,
      'MirrorMaker probe',
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Plain topic names only here (the readiness check names the replicas). */
function replicatedTopics(options: MirrorMakerOptions): string[] {
  return Object.keys(options.sources).flatMap((alias) =>
    options.topics.split(',').map((topic) => `${alias}.${topic.trim()}`),
  );
}

type MirrorMakerServerOptions = MirrorMakerOptions & JavaServerOptions;

/** MirrorMaker 2 in dedicated mode: only its values and its probe; the rest is java-server.ts. */
const mirrorMakerServer: JavaServerDefinition<
  MirrorMakerServerOptions,
  Pick<MirrorMakerHandle, 'replicatedTopics'>
> = {
  label: 'MirrorMaker 2',
  pom: 'mirror-maker',
  mainClass: 'org.apache.kafka.connect.mirror.MirrorMaker',
  pidFile: 'mirror-maker.pid',
  outputFile: 'mirror-maker.out',
  logFiles: ['mirror-maker.log', 'mirror-maker.out'],
  stopGraceMs: STOP_GRACE_MS,
  startTimeoutMs: 180_000,
  readyIntervalMs: 1000,
  jvmArgs: (_options, dirs) => [
    '-Xmx512m',
    '-Xms128m',
    `-Dmm2.logs.dir=${dirs.logDir}`,
    `-Dlog4j2.configurationFile=${join(dirs.conf, 'log4j2.properties')}`,
  ],
  programArgs: (_options, dirs) => [join(dirs.conf, 'mm2.properties')],
  async writeConfig(options, dirs) {
    await writeFile(join(dirs.conf, 'mm2.properties'), mirrorMakerProperties(options));
    await writeFile(join(dirs.conf, 'log4j2.properties'), LOG4J2);
  },
  ready: (options) => probeMirrorMaker(options.target.brokers, replicatedTopics(options)),
  address: (options) => `${Object.keys(options.sources).join(', ')} → ${options.target.alias}`,
  fields: (options) => ({ replicatedTopics: replicatedTopics(options) }),
};

export function runningMirrorMakerPid(dataDir: string): Promise<number | undefined> {
  return runningJavaServerPid(mirrorMakerServer, dataDir);
}

export function stopMirrorMaker(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  return stopJavaServer(mirrorMakerServer, dataDir);
}

/** Starts MirrorMaker 2 and resolves once every source's topics exist on the target. */
export function startMirrorMaker(options: MirrorMakerOptions): Promise<MirrorMakerHandle> {
  // It listens on no port of its own (the internal REST server is off).
  return startJavaServer(mirrorMakerServer, { ...options, port: 0 });
}

if (import.meta.main) {
  const [command, flag, dir] = process.argv.slice(2);
  if (command !== 'stop' || flag !== '--dir' || !dir) {
    console.error('usage: node test/infra/mirror-maker.ts stop --dir <dir>  (regions.ts starts it)');
    process.exit(2);
  }
  console.log(`MirrorMaker: ${await stopMirrorMaker(dir)}`);
}
