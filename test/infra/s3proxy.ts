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
import { CreateBucketCommand, ListBucketsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import {
  killProcess,
  launchJava,
  readLivePid,
  stopByPidFile,
  stopProcess,
  waitUntilReady,
} from './java-process.ts';
import { fetchJars } from './maven.ts';

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

export interface S3ProxyHandle extends S3Endpoint {
  readonly pid: number;
  readonly startupMs: number;
  logFiles: readonly string[];
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

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

async function launch(options: S3ProxyOptions, lib: string): Promise<{ pid: number; startupMs: number }> {
  const p = paths(options);
  const started = Date.now();
  const pid = await launchJava({
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
  });
  const endpoint = endpointOf(options);
  try {
    await waitUntilReady({
      name: `s3proxy on ${endpoint.endpoint}`,
      pid,
      probe: () => probeS3(endpoint),
      timeoutMs: options.startTimeoutMs ?? 60_000,
      logFiles: s3proxyLogFiles(p.logDir),
      intervalMs: 250,
    });
    await createBuckets(endpoint, options.buckets ?? []);
  } catch (error) {
    // Never leave a server that failed to start running (it would hold the ports and locks).
    await killProcess(pid);
    throw error;
  }
  return { pid, startupMs: Date.now() - started };
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
  let current = await launch(options, lib);
  return {
    ...endpointOf(options),
    get pid() {
      return current.pid;
    },
    get startupMs() {
      return current.startupMs;
    },
    logFiles: s3proxyLogFiles(paths(options).logDir),
    async stop() {
      await stopProcess(current.pid, STOP_GRACE_MS);
    },
    async kill() {
      await killProcess(current.pid);
    },
    async restart() {
      await stopProcess(current.pid, STOP_GRACE_MS);
      current = await launch(options, lib);
    },
  };
}

if (import.meta.main) {
  const program = new Command('s3proxy').description('An s3proxy (filesystem backend) for tests');
  program
    .command('start')
    .requiredOption('--port <port>', 'HTTP port', Number)
    .requiredOption('--dir <dir>', 'data directory (logs go to <dir>/logs)')
    .option('--bucket <name...>', 'buckets to create', [])
    .action(async (opts: { port: number; dir: string; bucket: string[] }) => {
      const handle = await startS3proxy({
        port: opts.port,
        dataDir: opts.dir,
        logDir: join(opts.dir, 'logs'),
        buckets: opts.bucket,
      });
      console.log(
        `s3proxy up at ${handle.endpoint} (pid ${handle.pid}) in ${(handle.startupMs / 1000).toFixed(1)} s`,
      );
    });
  program
    .command('stop')
    .requiredOption('--dir <dir>', 'data directory given to start')
    .action(async (opts: { dir: string }) => {
      console.log(`s3proxy: ${await stopS3proxy(opts.dir)}`);
    });
  await program.parseAsync();
}
