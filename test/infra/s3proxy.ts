/**
 * @module A real S3-compatible server for tests: s3proxy 4.1.0 with the filesystem-nio2
 * backend (objects are plain files under the data directory) and an access key checked with
 * AWS signatures v2 or v4. Chosen over s3rver (npm), which stored streamed uploads with the
 * chunk framing in the body, ignored If-None-Match and failed paginated ListObjectsV2.
 *
 * CLI: node test/infra/s3proxy.ts start --port 29000 --dir /tmp/s3 [--bucket warehouse]
 *      node test/infra/s3proxy.ts stop --dir /tmp/s3
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { readLivePid, stopByPidFile } from './java-process.ts';
import { fetchJars } from './maven.ts';
import {
  launchServer,
  runServerCli,
  type ServerLifecycle,
  type ServerRun,
  serverHandle,
} from './server-handle.ts';

export interface S3ProxyOptions {
  port: number;
  /** Config, the objects (under blobs/) and the pid file. */
  dataDir: string;
  logDir: string;
  accessKey?: string;
  secretKey?: string;
  /** Created (if missing) once the server answers. */
  buckets?: readonly string[];
  startTimeoutMs?: number;
  cache?: string;
}

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

export interface S3ProxyHandle extends S3Endpoint, ServerLifecycle {}

export const S3_REGION = 'us-east-1';
const STOP_GRACE_MS = 10_000;

export function s3proxyLogFiles(logDir: string): string[] {
  return [join(logDir, 's3proxy.log')];
}

/** A client for a test S3 endpoint (path-style, as s3proxy serves buckets). */
export function testS3Client(endpoint: S3Endpoint, maxAttempts = 3): S3Client {
  return new S3Client({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    forcePathStyle: true,
    credentials: { accessKeyId: endpoint.accessKey, secretAccessKey: endpoint.secretKey },
    maxAttempts,
  });
}

/** Removes a test's objects under `prefix` (a test writes far fewer than one listing page). */
export async function deleteTestPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const keys = (listed.Contents ?? []).map((object) => ({ Key: object.Key }));
  if (keys.length > 0)
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
}

function paths(options: Pick<S3ProxyOptions, 'dataDir' | 'logDir'>) {
  const dataDir = resolve(options.dataDir);
  return {
    dataDir,
    logDir: resolve(options.logDir),
    conf: join(dataDir, 'conf'),
    properties: join(dataDir, 'conf', 's3proxy.conf'),
    blobs: join(dataDir, 'blobs'),
    pidFile: join(dataDir, 's3proxy.pid'),
  };
}

function endpointOf(options: S3ProxyOptions): S3Endpoint {
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    region: S3_REGION,
    accessKey: options.accessKey ?? 'beacon',
    secretKey: options.secretKey ?? 'beacon-secret',
  };
}

// Without a config s3proxy logs at DEBUG; jetty's INFO lines are noise.
const LOGBACK = `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.eclipse.jetty" level="WARN"/>
  <logger name="org.gaul.shaded.org.eclipse.jetty" level="WARN"/>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
`;

/** Answers when a signed ListBuckets succeeds. */
export async function probeS3(endpoint: S3Endpoint, timeoutMs = 5000): Promise<void> {
  const client = testS3Client(endpoint, 1);
  try {
    await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
  } finally {
    client.destroy();
  }
}

async function createBuckets(endpoint: S3Endpoint, buckets: readonly string[]): Promise<void> {
  const client = testS3Client(endpoint);
  try {
    for (const bucket of buckets) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (error) {
        if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
      }
    }
  } finally {
    client.destroy();
  }
}

async function prepare(options: S3ProxyOptions): Promise<string> {
  const p = paths(options);
  const lib = await fetchJars('s3proxy', options.cache === undefined ? {} : { cache: options.cache });
  const endpoint = endpointOf(options);
  await mkdir(p.conf, { recursive: true });
  await mkdir(p.blobs, { recursive: true });
  await mkdir(p.logDir, { recursive: true });
  // s3proxy 4.x dropped jclouds but still reads the jclouds.* keys.
  await writeFile(
    p.properties,
    [
      '# Written by test/infra/s3proxy.ts',
      `s3proxy.endpoint=${endpoint.endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${endpoint.accessKey}`,
      `s3proxy.credential=${endpoint.secretKey}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${p.blobs}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(p.conf, 'logback.xml'), LOGBACK);
  return lib;
}

function launch(options: S3ProxyOptions, lib: string): Promise<ServerRun> {
  const p = paths(options);
  const endpoint = endpointOf(options);
  return launchServer(
    {
      args: [
        '-Xmx512m',
        '-Djava.awt.headless=true',
        `-Dlogback.configurationFile=${join(p.conf, 'logback.xml')}`,
        '-cp',
        `${lib}/*`,
        'org.gaul.s3proxy.Main',
        '--properties',
        p.properties,
      ],
      cwd: p.dataDir,
      logFile: join(p.logDir, 's3proxy.log'),
      pidFile: p.pidFile,
      identity: p.properties,
    },
    {
      name: `s3proxy on ${endpoint.endpoint}`,
      probe: () => probeS3(endpoint),
      timeoutMs: options.startTimeoutMs ?? 60_000,
      logFiles: s3proxyLogFiles(p.logDir),
      intervalMs: 250,
    },
    () => createBuckets(endpoint, options.buckets ?? []),
  );
}

export function runningS3proxyPid(dataDir: string): Promise<number | undefined> {
  const p = paths({ dataDir, logDir: dataDir });
  return readLivePid(p.pidFile, p.properties);
}

export function stopS3proxy(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  const p = paths({ dataDir, logDir: dataDir });
  return stopByPidFile(p.pidFile, p.properties, STOP_GRACE_MS);
}

/** Starts s3proxy, waits until a signed request succeeds, and creates `buckets`. */
export async function startS3proxy(options: S3ProxyOptions): Promise<S3ProxyHandle> {
  if (await runningS3proxyPid(options.dataDir)) {
    throw new Error(`An s3proxy already runs from ${options.dataDir}`);
  }
  const lib = await prepare(options);
  return serverHandle({
    fields: endpointOf(options),
    first: await launch(options, lib),
    relaunch: () => launch(options, lib),
    stopGraceMs: STOP_GRACE_MS,
    logFiles: s3proxyLogFiles(paths(options).logDir),
  });
}

if (import.meta.main) {
  await runServerCli({
    command: 's3proxy',
    description: 'An s3proxy (filesystem backend) for tests',
    label: 's3proxy',
    startOptions: (start) =>
      start
        .requiredOption('--port <port>', 'HTTP port', Number)
        .option('--bucket <name...>', 'buckets to create', []),
    start: (opts: { port: number; bucket: string[]; dir: string }) =>
      startS3proxy({
        port: opts.port,
        dataDir: opts.dir,
        logDir: join(opts.dir, 'logs'),
        buckets: opts.bucket,
      }),
    address: (handle) => handle.endpoint,
    stop: stopS3proxy,
  });
}
