/**
 * @module A real HiveServer2 for tests: Apache Hive 4.0.1 (the newest whose server jars are on
 * Maven Central) with an embedded Derby metastore, MapReduce in local mode, and S3A pointed at
 * our S3 server, so it reads the Parquet files the product uploads. Binary Thrift transport,
 * NOSASL authentication, on loopback.
 *
 * The JVM runs in UTC on purpose: in another zone Hive shifts Parquet timestamps, and
 * hive.local.time.zone does not prevent it.
 *
 * CLI: node test/infra/hive.ts start --port 29100 --dir /tmp/hive --s3-endpoint http://127.0.0.1:29000
 *      node test/infra/hive.ts stop --dir /tmp/hive
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { queryHive } from './hive-client.ts';
import {
  type JavaServerDefinition,
  type JavaServerOptions,
  javaServerLogFiles,
  runJavaServerCli,
  runningJavaServerPid,
  type ServerLifecycle,
  startJavaServer,
  stopJavaServer,
} from './java-server.ts';
import type { S3Endpoint } from './s3proxy.ts';

/** The data directory holds the Derby metastore, warehouse and scratch directories. */
export interface HiveOptions extends JavaServerOptions {
  /** The S3 server S3A talks to (only written into the config: it need not be up yet). */
  s3: S3Endpoint;
}

export interface HiveHandle extends ServerLifecycle {
  host: string;
  port: number;
  auth: 'NOSASL';
}

// Hive flushes the metastore and stops its thread pools on SIGTERM: give it time.
const STOP_GRACE_MS = 20_000;

// Without these HiveServer2 fails on java.net.URI and silently retries 30 times a minute apart.
const ADD_OPENS = [
  'java.base/java.lang',
  'java.base/java.lang.reflect',
  'java.base/java.lang.invoke',
  'java.base/java.io',
  'java.base/java.net',
  'java.base/java.nio',
  'java.base/java.text',
  'java.base/java.util',
  'java.base/java.util.concurrent',
  'java.base/java.util.concurrent.atomic',
  'java.base/java.util.regex',
  'java.base/sun.nio.ch',
  'java.sql/java.sql',
].map((pkg) => `--add-opens=${pkg}=ALL-UNNAMED`);

function escapeXml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function hiveSite(options: HiveOptions, run: string): string {
  const properties: Record<string, string> = {
    // Embedded metastore in Derby, schema created on first start.
    'hive.metastore.uris': '',
    'javax.jdo.option.ConnectionURL': `jdbc:derby:;databaseName=${run}/metastore_db;create=true`,
    'javax.jdo.option.ConnectionDriverName': 'org.apache.derby.jdbc.EmbeddedDriver',
    'datanucleus.schema.autoCreateAll': 'true',
    'hive.metastore.schema.verification': 'false',
    'hive.metastore.try.direct.sql': 'false',
    'hive.metastore.try.direct.sql.ddl': 'false',
    'hive.metastore.warehouse.dir': `${run}/warehouse`,
    'hive.metastore.warehouse.external.dir': `${run}/warehouse-external`,
    // Queries run as MapReduce inside the HiveServer2 JVM, on the local file system.
    'hive.execution.engine': 'mr',
    'mapreduce.framework.name': 'local',
    'fs.defaultFS': 'file:///',
    'hadoop.tmp.dir': `${run}/hadoop-tmp`,
    'hive.exec.scratchdir': `${run}/scratch`,
    'hive.exec.local.scratchdir': `${run}/local-scratch`,
    'hive.downloaded.resources.dir': `${run}/resources`,
    'hive.querylog.location': `${run}/querylog`,
    'hive.server2.logging.operation.log.location': `${run}/operation-logs`,
    // The server: binary Thrift on loopback, no SASL, no web UI, no HA or discovery.
    'hive.server2.enable.doAs': 'false',
    'hive.server2.transport.mode': 'binary',
    'hive.server2.thrift.bind.host': '127.0.0.1',
    'hive.server2.thrift.port': String(options.port),
    'hive.server2.authentication': 'NOSASL',
    'hive.server2.webui.port': '0',
    'hive.server2.max.start.attempts': '1',
    'hive.server2.active.passive.ha.enable': 'false',
    'hive.server2.support.dynamic.service.discovery': 'false',
    // No statistics: count(*) must read the files, so a file added under a partition counts at once.
    'hive.stats.autogather': 'false',
    'hive.stats.column.autogather': 'false',
    'hive.compute.query.using.stats': 'false',
    'hive.support.concurrency': 'false',
    // A map-join's local task is otherwise run through bin/hadoop, which a Maven-jar install lacks:
    // such queries failed with "return code 1 from MapredLocalTask".
    'hive.exec.submit.local.task.via.child': 'false',
    // HiveServer2 polls a running MapReduce job once a second by default, so a local job that is done
    // in 0.3 s still answers after a whole second. Polling every 100 ms took a one-job GROUP BY from a
    // median 2.4 s to 1.7 s (8 runs each, alternating): every Hive query of the test run gains it.
    'hive.exec.counters.pull.interval': '100',
    'hive.txn.manager': 'org.apache.hadoop.hive.ql.lockmgr.DummyTxnManager',
    // S3A against the test S3 server.
    'fs.s3a.endpoint': options.s3.endpoint,
    'fs.s3a.endpoint.region': options.s3.region,
    'fs.s3a.path.style.access': 'true',
    'fs.s3a.connection.ssl.enabled': 'false',
    'fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
    'fs.s3a.access.key': options.s3.accessKey,
    'fs.s3a.secret.key': options.s3.secretKey,
  };
  const body = Object.entries(properties)
    .map(([name, value]) => `  <property><name>${name}</name><value>${escapeXml(value)}</value></property>`)
    .join('\n');
  return `<?xml version="1.0"?>\n<!-- Written by test/infra/hive.ts -->\n<configuration>\n${body}\n</configuration>\n`;
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolvePort(false);
    });
    socket.once('error', () => resolvePort(false));
  });
}

/** Answers when `SELECT 1` returns 1 through hive-driver. */
export async function probeHive(port: number, timeoutMs = 20_000): Promise<void> {
  // A closed port fails fast here; hive-driver would take its own connect timeout.
  if (!(await portAcceptsConnections(port))) throw new Error(`nothing listens on 127.0.0.1:${port} yet`);
  const rows = await queryHive({ host: '127.0.0.1', port, auth: 'NOSASL' }, 'SELECT 1 AS one', {
    timeoutMs,
  });
  if (rows[0]?.one !== 1) throw new Error(`SELECT 1 returned ${JSON.stringify(rows)}`);
}

/** HiveServer2 with its embedded metastore: only its values and its probe; the rest is java-server.ts. */
export const hiveServer: JavaServerDefinition<HiveOptions, Pick<HiveHandle, 'host' | 'port' | 'auth'>> = {
  label: 'HiveServer2',
  pom: 'hive',
  mainClass: 'org.apache.hive.service.server.HiveServer2',
  pidFile: 'hiveserver2.pid',
  outputFile: 'hiveserver2.out',
  logFiles: ['hive.log', 'hiveserver2.out'],
  stopGraceMs: STOP_GRACE_MS,
  startTimeoutMs: 300_000,
  readyIntervalMs: 1000,
  jvmArgs: (_options, dirs) => [
    '-Xmx1g',
    '-Duser.timezone=UTC',
    `-Djava.io.tmpdir=${join(dirs.dataDir, 'tmp')}`,
    '-Dio.netty.tryReflectionSetAccessible=true',
    // Hive's own log4j2 config reads these: hive.log goes to our log directory.
    `-Dhive.log.dir=${dirs.logDir}`,
    '-Dhive.log.file=hive.log',
    `-Dderby.stream.error.file=${join(dirs.logDir, 'derby.log')}`,
    ...ADD_OPENS,
  ],
  async writeConfig(options, dirs) {
    await mkdir(join(dirs.dataDir, 'tmp'), { recursive: true });
    await writeFile(join(dirs.conf, 'hive-site.xml'), hiveSite(options, dirs.dataDir));
  },
  ready: (options) => probeHive(options.port),
  address: (options) => `127.0.0.1:${options.port}`,
  fields: (options) => ({ host: '127.0.0.1', port: options.port, auth: 'NOSASL' as const }),
};

export function hiveLogFiles(logDir: string): string[] {
  return javaServerLogFiles(hiveServer, logDir);
}

export function runningHivePid(dataDir: string): Promise<number | undefined> {
  return runningJavaServerPid(hiveServer, dataDir);
}

export function stopHive(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  return stopJavaServer(hiveServer, dataDir);
}

/** Starts HiveServer2 and resolves once `SELECT 1` answers. */
export function startHive(options: HiveOptions): Promise<HiveHandle> {
  return startJavaServer(hiveServer, options);
}

if (import.meta.main) {
  await runJavaServerCli(hiveServer, {
    command: 'hive',
    description: 'A HiveServer2 (embedded Derby metastore, S3A) for tests',
    startOptions: (start) =>
      start
        .requiredOption('--port <port>', 'Thrift port', Number)
        .requiredOption('--s3-endpoint <url>', 'S3 endpoint for s3a:// locations')
        .option('--s3-access-key <key>', 'S3 access key', 'beacon')
        .option('--s3-secret-key <key>', 'S3 secret key', 'beacon-secret'),
    options: (opts: {
      port: number;
      dir: string;
      s3Endpoint: string;
      s3AccessKey: string;
      s3SecretKey: string;
    }) => ({
      port: opts.port,
      dataDir: opts.dir,
      logDir: join(opts.dir, 'logs'),
      s3: {
        endpoint: opts.s3Endpoint,
        region: 'us-east-1',
        accessKey: opts.s3AccessKey,
        secretKey: opts.s3SecretKey,
      },
    }),
  });
}
