/**
 * @module The shared test stack: Kafka, s3proxy and HiveServer2 on loopback, started once and
 * used by every integration test and by anyone developing against real servers.
 *
 *   npm run stack -- up       fetch the jars (once), start what is not running, wait until each
 *                             answers a real client, then write stack.env
 *   npm run stack -- down     stop exactly the processes named by the pid files
 *   npm run stack -- status   each server up or down, with its endpoint
 *   npm run stack -- up --regions eu,us   also a Kafka cluster per region, `central` and
 *                             MirrorMaker 2 between them (stack-regions.ts, docs/regions.md)
 *
 * Each server records who started it (`owner`: the CLI, or a test run's global setup), so a
 * test run stops only what a test run started and never a stack someone brought up by hand.
 * Starting and stopping hold a lock file: two test runs at once do not start two stacks.
 *
 * Over 300 lines: test infrastructure whose up, down and status share the
 * owner and pid-file bookkeeping; each server's definition lives in its own
 * file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { cacheDir } from './cache-dir.ts';
import { withFileLock } from './file-lock.ts';
import { probeHive, runningHivePid, startHive, stopHive } from './hive.ts';
import { waitUntilReady } from './java-process.ts';
import { probeKafka, runningKafkaPid, startKafka, stopKafka } from './kafka.ts';
import { fetchJars } from './maven.ts';
import { parseRegionList } from './regions.ts';
import { probeS3, runningS3proxyPid, startS3proxy, stopS3proxy } from './s3proxy.ts';
import { writeStackEnv } from './stack-env.ts';
import {
  STACK_S3,
  STACK_SERVERS,
  type StackPorts,
  type StackServer,
  stackDir,
  stackEnvFile,
  stackLogFiles,
  stackPorts,
  stackServerDirs,
} from './stack-layout.ts';
import { regionsDown, regionsStatusLines, regionsUp } from './stack-regions.ts';

export type StackOwner = 'cli' | 'tests';

export interface StackOptions {
  cache?: string;
  ports?: StackPorts;
  log?: (line: string) => void;
}

interface ServerSpec {
  pom: string;
  endpoint: string;
  running(): Promise<number | undefined>;
  probe(): Promise<void>;
  /** Starts the server; resolves with its start-up time once it answers. */
  start(): Promise<number>;
  stop(): Promise<'stopped' | 'killed' | 'not running'>;
}

function resolved(options: StackOptions) {
  const cache = options.cache ?? cacheDir();
  return {
    cache,
    ports: options.ports ?? stackPorts(),
    log: options.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
  };
}

function s3Endpoint(ports: StackPorts) {
  return {
    endpoint: `http://127.0.0.1:${ports.s3}`,
    region: STACK_S3.region,
    accessKey: STACK_S3.accessKey,
    secretKey: STACK_S3.secretKey,
  };
}

function serverSpecs(cache: string, ports: StackPorts): Record<StackServer, ServerSpec> {
  const kafka = stackServerDirs('kafka', cache);
  const s3 = stackServerDirs('s3', cache);
  const hive = stackServerDirs('hive', cache);
  const s3At = s3Endpoint(ports);
  return {
    kafka: {
      pom: 'kafka',
      endpoint: `127.0.0.1:${ports.kafka}`,
      running: () => runningKafkaPid(kafka.dataDir),
      probe: () => probeKafka([`127.0.0.1:${ports.kafka}`]),
      start: async () =>
        (await startKafka({ port: ports.kafka, controllerPort: ports.kafkaController, cache, ...kafka }))
          .startupMs,
      stop: () => stopKafka(kafka.dataDir),
    },
    s3: {
      pom: 's3proxy',
      endpoint: s3At.endpoint,
      running: () => runningS3proxyPid(s3.dataDir),
      probe: () => probeS3(s3At),
      start: async () =>
        (
          await startS3proxy({
            port: ports.s3,
            cache,
            buckets: [STACK_S3.bucket],
            accessKey: s3At.accessKey,
            secretKey: s3At.secretKey,
            ...s3,
          })
        ).startupMs,
      stop: () => stopS3proxy(s3.dataDir),
    },
    hive: {
      pom: 'hive',
      endpoint: `127.0.0.1:${ports.hive} (NOSASL)`,
      running: () => runningHivePid(hive.dataDir),
      probe: () => probeHive(ports.hive),
      start: async () => (await startHive({ port: ports.hive, cache, s3: s3At, ...hive })).startupMs,
      stop: () => stopHive(hive.dataDir),
    },
  };
}

function ownerFile(server: StackServer, cache: string): string {
  return join(stackServerDirs(server, cache).dataDir, 'owner');
}

export async function stackOwner(server: StackServer, cache = cacheDir()): Promise<StackOwner | undefined> {
  const owner = (await readFile(ownerFile(server, cache), 'utf8').catch(() => '')).trim();
  return owner === 'cli' || owner === 'tests' ? owner : undefined;
}

function lockOptions(log: (line: string) => void) {
  return {
    timeoutMs: 20 * 60_000,
    onWait: (pid: number) => log(`[stack] waiting for pid ${pid}, which is starting or stopping the stack`),
  };
}

export interface ServerStatus {
  server: StackServer;
  pid: number | undefined;
  /** Whether it answered a real client just now (false when not running). */
  answers: boolean;
  endpoint: string;
  owner: StackOwner | undefined;
}

export async function stackStatus(options: StackOptions = {}): Promise<ServerStatus[]> {
  const { cache, ports } = resolved(options);
  const specs = serverSpecs(cache, ports);
  return Promise.all(
    STACK_SERVERS.map(async (server) => {
      const pid = await specs[server].running();
      const answers =
        pid !== undefined &&
        (await specs[server].probe().then(
          () => true,
          () => false,
        ));
      return {
        server,
        pid,
        answers,
        endpoint: specs[server].endpoint,
        owner: await stackOwner(server, cache),
      };
    }),
  );
}

/**
 * Starts whatever is not running, waits until every server answers, writes stack.env.
 * Returns the servers this call started. `owner` 'cli' also claims running servers, so a test
 * run will not stop a stack that someone has since brought up by hand.
 */
export function stackUp(owner: StackOwner, options: StackOptions = {}): Promise<StackServer[]> {
  return withStackLock(options, () => startStackServers(owner, options));
}

/** Holds the stack's lock file while `work` runs (not re-entrant). */
export async function withStackLock<T>(options: StackOptions, work: () => Promise<T>): Promise<T> {
  const { cache, log } = resolved(options);
  await mkdir(stackDir(cache), { recursive: true });
  return withFileLock(join(stackDir(cache), '.lock'), lockOptions(log), work);
}

/** stackUp's work, for a caller that holds the stack lock. */
export async function startStackServers(
  owner: StackOwner,
  options: StackOptions = {},
): Promise<StackServer[]> {
  const { cache, ports, log } = resolved(options);
  const specs = serverSpecs(cache, ports);
  const started: StackServer[] = [];
  const starting: Promise<void>[] = [];
  const failures: string[] = [];
  for (const server of STACK_SERVERS) {
    const spec = specs[server];
    const pid = await spec.running();
    if (pid !== undefined) {
      // Running: it must answer (a pid alone may be a server still recovering).
      starting.push(
        waitUntilReady({
          name: server,
          pid,
          probe: spec.probe,
          timeoutMs: 60_000,
          logFiles: stackLogFiles(server, cache),
        }).then(
          () => log(`[stack] ${server} already up at ${spec.endpoint} (pid ${pid})`),
          (error: unknown) => {
            failures.push(`${server} runs (pid ${pid}) but does not answer: ${(error as Error).message}`);
          },
        ),
      );
      if (owner === 'cli') await writeFile(ownerFile(server, cache), 'cli\n');
      continue;
    }
    // Jars are fetched one server at a time (one Maven local repository); each server
    // starts as soon as its jars are there, in parallel with the next fetch.
    try {
      await fetchJars(spec.pom, { cache, log });
    } catch (error) {
      failures.push(`${server}: could not fetch its jars: ${(error as Error).message}`);
      continue;
    }
    started.push(server);
    await mkdir(stackServerDirs(server, cache).dataDir, { recursive: true });
    await writeFile(ownerFile(server, cache), `${owner}\n`);
    log(`[stack] starting ${server} on ${spec.endpoint}`);
    starting.push(
      spec.start().then(
        (ms) => log(`[stack] ${server} up at ${spec.endpoint} in ${(ms / 1000).toFixed(1)} s`),
        (error: unknown) => {
          failures.push(`${server} did not start: ${(error as Error).message}`);
        },
      ),
    );
  }
  await Promise.all(starting);
  if (failures.length > 0) {
    // Leave no half stack behind: stop what this call started.
    await Promise.all(started.map((server) => specs[server].stop()));
    throw new Error(`The test stack did not come up:\n${failures.join('\n')}`);
  }
  writeStackEnv(
    {
      KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
      S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
      S3_REGION: STACK_S3.region,
      S3_ACCESS_KEY: STACK_S3.accessKey,
      S3_SECRET_KEY: STACK_S3.secretKey,
      S3_BUCKET: STACK_S3.bucket,
      HIVE_HOST: '127.0.0.1',
      HIVE_PORT: ports.hive,
      HIVE_AUTH: 'NOSASL',
    },
    stackEnvFile(cache),
  );
  return started;
}

/**
 * Stops the given servers (all by default) by their pid files: SIGTERM, then SIGKILL after
 * a grace period. stack.env goes first, so nobody reads endpoints of a stack going down.
 */
export async function stackDown(options: StackOptions = {}): Promise<void> {
  if (!existsSync(stackDir(resolved(options).cache))) return;
  await withStackLock(options, () => stopStackServers(STACK_SERVERS, options));
}

/** stackDown's work for some servers, for a caller that holds the stack lock. */
export async function stopStackServers(
  servers: readonly StackServer[],
  options: StackOptions = {},
): Promise<void> {
  const { cache, ports, log } = resolved(options);
  await rm(stackEnvFile(cache), { force: true });
  const specs = serverSpecs(cache, ports);
  await Promise.all(
    servers.map(async (server) => {
      const started = Date.now();
      const result = await specs[server].stop();
      await rm(ownerFile(server, cache), { force: true });
      const took = result === 'not running' ? '' : ` in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      log(`[stack] ${server}: ${result}${took}`);
    }),
  );
}

if (import.meta.main) {
  const program = new Command('stack').description(
    'The shared test stack: Kafka, s3proxy and HiveServer2 on loopback (state under $BEACON_CACHE/stack)',
  );
  program
    .command('up')
    .description('start what is not running, wait until all answer, write stack.env')
    .option(
      '--regions <list>',
      'also a Kafka cluster per region (comma-separated), central, and MirrorMaker 2 replicating each to central',
      (list: string) => {
        try {
          return parseRegionList(list);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      },
    )
    .action(async (opts: { regions?: string[] }) => {
      const regions = opts.regions;
      const started = Date.now();
      await stackUp('cli');
      console.log(
        `Stack up in ${((Date.now() - started) / 1000).toFixed(1)} s; endpoints in ${stackEnvFile()}`,
      );
      if (regions) {
        const at = Date.now();
        const env = await regionsUp(regions);
        console.log(
          `Regions ${regions.join(', ')} + central + MirrorMaker 2 up in ${((Date.now() - at) / 1000).toFixed(1)} s; endpoints in ${env}`,
        );
      }
    });
  program
    .command('down')
    .description('stop the servers named by the pid files')
    .action(async () => {
      await regionsDown();
      await stackDown();
      console.log('Stack down');
    });
  program
    .command('status')
    .description('each server up or down, with its endpoint')
    .action(async () => {
      for (const s of await stackStatus()) {
        const how = `pid ${s.pid}${s.owner ? `, started by ${s.owner}` : ''}`;
        const state = s.pid === undefined ? 'down' : s.answers ? `up (${how})` : `NOT ANSWERING (${how})`;
        console.log(`${s.server.padEnd(6)} ${state.padEnd(42)} ${s.endpoint}`);
      }
      for (const line of await regionsStatusLines()) console.log(line);
      console.log(existsSync(stackEnvFile()) ? `env: ${stackEnvFile()}` : 'env: none (stack not up)');
    });
  await program.parseAsync();
  // A probe's client can hold a socket open for a while after it answered: do not wait for it.
  process.exit(0);
}
