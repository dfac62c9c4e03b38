/**
 * @module A real Kafka 4.3.1 broker for tests: one node in KRaft mode (broker and controller
 * in one JVM) on loopback. The shared stack uses it, and fault tests start private instances
 * on other ports and SIGKILL them, so a killed broker must come back quickly: the broker
 * session is 3 s instead of 9 s, or the restarted broker is refused with
 * DUPLICATE_BROKER_REGISTRATION until the old session expires.
 *
 * CLI: node test/infra/kafka.ts start --port 29092 --controller-port 29093 --dir /tmp/k
 *      node test/infra/kafka.ts stop --dir /tmp/k
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { readLivePid, runJava, stopByPidFile } from './java-process.ts';
import { fetchJars } from './maven.ts';
import {
  launchServer,
  runServerCli,
  type ServerLifecycle,
  type ServerRun,
  serverHandle,
} from './server-handle.ts';
import { withTimeout } from './with-timeout.ts';

export interface KafkaOptions {
  port: number;
  controllerPort: number;
  /** Config, KRaft logs and the pid file. Reused (not reformatted) when it already holds a broker. */
  dataDir: string;
  /** server.log and the JVM's own output. */
  logDir: string;
  startTimeoutMs?: number;
  /** Passed to the jar fetch (defaults to BEACON_CACHE). */
  cache?: string;
}

/** Ready means a produce was acknowledged; see ServerLifecycle for stop, kill and restart. */
export interface KafkaHandle extends ServerLifecycle {
  brokers: string[];
}

const PROBE_TOPIC = 'beacon-stack-probe';
const STOP_GRACE_MS = 15_000;

export function kafkaLogFiles(logDir: string): string[] {
  return [join(logDir, 'server.log'), join(logDir, 'kafka.out')];
}

function paths(options: KafkaOptions) {
  const dataDir = resolve(options.dataDir);
  return {
    dataDir,
    logDir: resolve(options.logDir),
    conf: join(dataDir, 'conf'),
    serverProperties: join(dataDir, 'conf', 'server.properties'),
    kraftLogs: join(dataDir, 'kraft-logs'),
    pidFile: join(dataDir, 'kafka.pid'),
  };
}

function serverProperties(options: KafkaOptions, kraftLogs: string): string {
  const { port, controllerPort } = options;
  return `# Written by test/infra/kafka.ts
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${kraftLogs}
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# A restarted broker is refused until its previous session expires: keep that short.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
`;
}

// INFO and above to server.log, only ERROR to the console (kafka.out).
const LOG4J2 = `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
rootLogger.appenderRef.console.ref = STDOUT
`;

/** A KRaft cluster id as `kafka-storage random-uuid` makes it (16 random bytes, base64url). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Writes the config and formats the storage once; returns the lib directory. */
async function prepare(options: KafkaOptions): Promise<string> {
  const p = paths(options);
  const lib = await fetchJars('kafka', options.cache === undefined ? {} : { cache: options.cache });
  await mkdir(p.conf, { recursive: true });
  await mkdir(p.logDir, { recursive: true });
  await writeFile(p.serverProperties, serverProperties(options, p.kraftLogs));
  await writeFile(join(p.conf, 'log4j2.properties'), LOG4J2);
  if (!existsSync(join(p.kraftLogs, 'meta.properties'))) {
    const idFile = join(p.dataDir, 'cluster.id');
    const id = existsSync(idFile) ? (await readFile(idFile, 'utf8')).trim() : clusterId();
    await writeFile(idFile, `${id}\n`);
    // --standalone goes with controller.quorum.bootstrap.servers; --ignore-formatted makes it idempotent.
    await runJava(
      ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '--standalone', '--ignore-formatted'].concat([
        '-t',
        id,
        '-c',
        p.serverProperties,
      ]),
      join(p.logDir, 'kafka.out'),
    );
  }
  return lib;
}

/** Answers only when a broker is registered and an acks=-1 produce is acknowledged. */
export async function probeKafka(brokers: string[], timeoutMs = 10_000): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'beacon-stack-probe',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker registered yet');
        const topics = await admin.listTopics();
        if (!topics.includes(PROBE_TOPIC)) {
          await admin.createTopics({
            topics: [
              {
                topic: PROBE_TOPIC,
                numPartitions: 1,
                configEntries: [{ name: 'retention.ms', value: '600000' }],
              },
            ],
            waitForLeaders: true,
          });
        }
        await producer.connect();
        await producer.send({ topic: PROBE_TOPIC, acks: -1, messages: [{ value: 'probe' }] });
      })(),
      timeoutMs,
      'Kafka probe',
    );
  } finally {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
  }
}

function launch(options: KafkaOptions, lib: string): Promise<ServerRun> {
  const p = paths(options);
  return launchServer(
    {
      args: [
        '-Xmx512m',
        '-Xms256m',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${p.logDir}`,
        `-Dlog4j2.configurationFile=${join(p.conf, 'log4j2.properties')}`,
        '-cp',
        `${p.conf}:${lib}/*`,
        'kafka.Kafka',
        p.serverProperties,
      ],
      cwd: p.dataDir,
      logFile: join(p.logDir, 'kafka.out'),
      pidFile: p.pidFile,
      identity: p.serverProperties,
    },
    {
      name: `Kafka on 127.0.0.1:${options.port}`,
      probe: () => probeKafka([`127.0.0.1:${options.port}`]),
      timeoutMs: options.startTimeoutMs ?? 90_000,
      logFiles: kafkaLogFiles(p.logDir),
    },
  );
}

/** The pid of the broker running from `dataDir`, if any. */
export function runningKafkaPid(dataDir: string): Promise<number | undefined> {
  const serverPropertiesPath = join(resolve(dataDir), 'conf', 'server.properties');
  return readLivePid(join(resolve(dataDir), 'kafka.pid'), serverPropertiesPath);
}

/** Stops the broker running from `dataDir` (by its pid file), if any. */
export function stopKafka(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  const p = paths({ dataDir, logDir: dataDir, port: 0, controllerPort: 0 });
  return stopByPidFile(p.pidFile, p.serverProperties, STOP_GRACE_MS);
}

/** Starts a broker and resolves once it acknowledges a produce. */
export async function startKafka(options: KafkaOptions): Promise<KafkaHandle> {
  if (await runningKafkaPid(options.dataDir)) {
    throw new Error(`A Kafka broker already runs from ${options.dataDir}`);
  }
  const lib = await prepare(options);
  return serverHandle({
    fields: { brokers: [`127.0.0.1:${options.port}`] },
    first: await launch(options, lib),
    relaunch: () => launch(options, lib),
    stopGraceMs: STOP_GRACE_MS,
    logFiles: kafkaLogFiles(paths(options).logDir),
  });
}

if (import.meta.main) {
  await runServerCli({
    command: 'kafka',
    description: 'A single-node KRaft Kafka broker for tests',
    label: 'Kafka',
    startOptions: (start) =>
      start
        .requiredOption('--port <port>', 'broker port', Number)
        .requiredOption('--controller-port <port>', 'controller port', Number),
    start: (opts: { port: number; controllerPort: number; dir: string }) =>
      startKafka({
        port: opts.port,
        controllerPort: opts.controllerPort,
        dataDir: opts.dir,
        logDir: join(opts.dir, 'logs'),
      }),
    address: (handle) => handle.brokers.join(','),
    stop: stopKafka,
  });
}
