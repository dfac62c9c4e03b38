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
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  type JavaServerDefinition,
  type JavaServerOptions,
  javaServerLogFiles,
  runJavaServerCli,
  runningJavaServerPid,
  type ServerDirs,
  type ServerLifecycle,
  startJavaServer,
  stopJavaServer,
} from './java-server.ts';

/** The objects live under `<dataDir>/blobs`. */
export interface S3ProxyOptions extends JavaServerOptions {
  accessKey?: string;
  secretKey?: string;
  /** Created (if missing) once the server answers. */
  buckets?: readonly string[];
}

export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

export interface S3ProxyHandle extends S3Endpoint, ServerLifecycle {}

export const S3_REGION = 'us-east-1';

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

async function writeConfig(options: S3ProxyOptions, dirs: ServerDirs): Promise<void> {
  const endpoint = endpointOf(options);
  const blobs = join(dirs.dataDir, 'blobs');
  await mkdir(blobs, { recursive: true });
  // s3proxy 4.x dropped jclouds but still reads the jclouds.* keys.
  await writeFile(
    join(dirs.conf, 's3proxy.conf'),
    [
      '# Written by test/infra/s3proxy.ts',
      `s3proxy.endpoint=${endpoint.endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${endpoint.accessKey}`,
      `s3proxy.credential=${endpoint.secretKey}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${blobs}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(dirs.conf, 'logback.xml'), LOGBACK);
}

/** s3proxy on the filesystem backend: only its values and its probe; the rest is java-server.ts. */
export const s3proxyServer: JavaServerDefinition<S3ProxyOptions, S3Endpoint> = {
  label: 's3proxy',
  pom: 's3proxy',
  mainClass: 'org.gaul.s3proxy.Main',
  pidFile: 's3proxy.pid',
  // s3proxy logs to the console: its output is its log.
  outputFile: 's3proxy.log',
  logFiles: ['s3proxy.log'],
  stopGraceMs: 10_000,
  startTimeoutMs: 60_000,
  readyIntervalMs: 250,
  jvmArgs: (_options, dirs) => ['-Xmx512m', `-Dlogback.configurationFile=${join(dirs.conf, 'logback.xml')}`],
  programArgs: (_options, dirs) => ['--properties', join(dirs.conf, 's3proxy.conf')],
  writeConfig,
  ready: (options) => probeS3(endpointOf(options)),
  afterReady: (options) => createBuckets(endpointOf(options), options.buckets ?? []),
  address: (options) => endpointOf(options).endpoint,
  fields: endpointOf,
};

export function s3proxyLogFiles(logDir: string): string[] {
  return javaServerLogFiles(s3proxyServer, logDir);
}

export function runningS3proxyPid(dataDir: string): Promise<number | undefined> {
  return runningJavaServerPid(s3proxyServer, dataDir);
}

export function stopS3proxy(dataDir: string): Promise<'stopped' | 'killed' | 'not running'> {
  return stopJavaServer(s3proxyServer, dataDir);
}

/** Starts s3proxy, waits until a signed request succeeds, and creates `buckets`. */
export function startS3proxy(options: S3ProxyOptions): Promise<S3ProxyHandle> {
  return startJavaServer(s3proxyServer, options);
}

if (import.meta.main) {
  await runJavaServerCli(s3proxyServer, {
    command: 's3proxy',
    description: 'An s3proxy (filesystem backend) for tests',
    startOptions: (start) =>
      start
        .requiredOption('--port <port>', 'HTTP port', Number)
        .option('--bucket <name...>', 'buckets to create', []),
    options: (opts: { port: number; bucket: string[]; dir: string }) => ({
      port: opts.port,
      dataDir: opts.dir,
      logDir: join(opts.dir, 'logs'),
      buckets: opts.bucket,
    }),
  });
}
