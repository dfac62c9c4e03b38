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
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { runJava } from './java-process.ts';
import {
  type JavaServerDefinition,
  type JavaServerOptions,
  javaServerLogFiles,
  log4j2FileConfig,
  runJavaServerCli,
  runningJavaServerPid,
  type ServerDirs,
  type ServerLifecycle,
  startJavaServer,
  stopJavaServer,
} from './java-server.ts';
import { withTimeout } from './with-timeout.ts';

export interface KafkaOptions extends JavaServerOptions {
  controllerPort: number;
}

/** Ready means a produce was acknowledged; see ServerLifecycle for stop, kill and restart. */
export interface KafkaHandle extends ServerLifecycle {
  brokers: string[];
}

const PROBE_TOPIC = 'beacon-stack-probe';

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
const LOG4J2 = log4j2FileConfig('kafka.logs.dir', 'server.log');

/** A KRaft cluster id as `kafka-storage random-uuid` makes it (16 random bytes, base64url). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Writes the config and formats the KRaft storage once (a restart reuses it). */
async function writeConfig(options: KafkaOptions, dirs: ServerDirs): Promise<void> {
  const properties = join(dirs.conf, 'server.properties');
  const kraftLogs = join(dirs.dataDir, 'kraft-logs');
  await writeFile(properties, serverProperties(options, kraftLogs));
  await writeFile(join(dirs.conf, 'log4j2.properties'), LOG4J2);
  if (existsSync(join(kraftLogs, 'meta.properties'))) return;
  const idFile = join(dirs.dataDir, 'cluster.id');
  const id = existsSync(idFile) ? (await readFile(idFile, 'utf8')).trim() : clusterId();
  await writeFile(idFile, `${id}\n`);
  // --standalone goes with controller.quorum.bootstrap.servers; --ignore-formatted makes it idempotent.
  await runJava(
    [
      '-cp',
      `${dirs.lib}/*`,
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      '--ignore-formatted',
    ].concat(['-t', id, '-c', properties]),
    join(dirs.logDir, 'kafka.out'),
  );
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

/** A single-node KRaft broker: only its values and its probe; the rest is java-server.ts. */
export const kafkaServer: JavaServerDefinition<KafkaOptions, Pick<KafkaHandle, 'brokers'>> = {
  label: 'Kafka',
  pom: 'kafka',
  mainClass: 'kafka.Kafka',
  pidFile: 'kafka.pid',
  outputFile: 'kafka.out',
  logFiles: ['server.log', 'kafka.out'],
  stopGraceMs: 15_000,
  startTimeoutMs: 90_000,
  jvmArgs: (_options, dirs) => [
    '-Xmx512m',
    '-Xms256m',
    `-Dkafka.logs.dir=${dirs.logDir}`,
    `-Dlog4j2.configurationFile=${join(dirs.conf, 'log4j2.properties')}`,
  ],
  programArgs: (_options, dirs) => [join(dirs.conf, 'server.properties')],
  writeConfig,
  ready: (options) => probeKafka([`127.0.0.1:${options.port}`]),
  address: (options) => `127.0.0.1:${options.port}`,
  fields: (options) => ({ brokers: [`127.0.0.1:${options.port}`] }),
};

export function kafkaLogFiles(logDir: string): string[] {
  return javaServerLogFiles(kafkaServer, logDir);
}

/** The pid of the broker running from `dataDir`, if any. */
export function runningKafkaPid(dataDir: string): Promise<number | undefined> {
  return runningJavaServerPid(kafkaServer, dataDir);
}

/** Stops the broker running from `dataDir` (by its pid file), if any. */
export function stopKafka(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  return stopJavaServer(kafkaServer, dataDir);
}

/** Starts a broker and resolves once it acknowledges a produce. */
export function startKafka(options: KafkaOptions): Promise<KafkaHandle> {
  return startJavaServer(kafkaServer, options);
}

if (import.meta.main) {
  await runJavaServerCli(kafkaServer, {
    command: 'kafka',
    description: 'A single-node KRaft Kafka broker for tests',
    startOptions: (start) =>
      start
        .requiredOption('--port <port>', 'broker port', Number)
        .requiredOption('--controller-port <port>', 'controller port', Number),
    options: (opts: { port: number; controllerPort: number; dir: string }) => ({
      port: opts.port,
      controllerPort: opts.controllerPort,
      dataDir: opts.dir,
      logDir: join(opts.dir, 'logs'),
    }),
  });
}
