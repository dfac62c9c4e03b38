/**
 * @module The fault matrix's pipeline, each part a real process or server:
 * the edge (`node edge/node.ts`) and the loader (`node loader/cli.ts`) as
 * child processes that a scenario SIGKILLs, Kafka, s3proxy and HiveServer2
 * (the shared stack's, or private ones a scenario kills). Clients post
 * through the edge and keep every messageId a 2xx acknowledged; at the end
 * the warehouse is read through HiveServer2 and compared with them.
 *
 * About 300 lines: every fault scenario starts, kills and reads this one
 * pipeline, so its parts stay together.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { edgeTestConfig, FAULT_TEST_SINK, IT_WRITE_KEY } from '../../edge/testing/edge-it-fixture.ts';
import type { LoaderConfigInput } from '../../loader/config.ts';
import { testSettings, uniqueId } from '../../loader/fixtures/loader-harness.ts';
import { cleanupRealHarness, openRealPorts, type RealPorts } from '../../loader/fixtures/real-ports.ts';
import type { LoaderSettings } from '../../loader/loader-deps.ts';
import { freePort } from '../infra/free-port.ts';
import { type StackEnv, stackCatalogConfig, stackStoreConfig } from '../infra/stack-env.ts';

const EDGE_ENTRY = fileURLToPath(new URL('../../edge/node.ts', import.meta.url));
const LOADER_ENTRY = fileURLToPath(new URL('../../loader/cli.ts', import.meta.url));

const WRITE_AUTH = `Basic ${Buffer.from(`${IT_WRITE_KEY}:`).toString('base64')}`;

/** What clients were told: the ids a 2xx acknowledged, and every status seen. */
export class Acks {
  readonly acked = new Set<string>();
  readonly statuses = new Map<string, number>();

  count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  /** Statuses that must never be seen: a 5xx other than the spool's honest 503. */
  serverErrors(): string[] {
    return [...this.statuses.keys()].filter((s) => /^5\d\d$/.test(s) && s !== '503');
  }
}

/** Posts one batch; records what was acknowledged. Resolves with the status (or `network`). */
export async function postBatch(
  edgeUrl: string,
  batch: { messageId: string }[],
  acks: Acks,
): Promise<string> {
  let status: string;
  try {
    const response = await fetch(`${edgeUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: WRITE_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ batch }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as { rejected?: { index: number }[] };
    status = String(response.status);
    if (response.ok) {
      const refused = new Set((body.rejected ?? []).map((r) => r.index));
      batch.forEach((e, i) => {
        if (!refused.has(i)) acks.acked.add(e.messageId);
      });
    }
  } catch {
    status = 'network';
  }
  acks.count(status);
  return status;
}

let sequence = 0;
/** `n` track events with unique messageIds (`<label>-<n>`), spread over a few visitors. */
export function trackEvents(label: string, n: number): { messageId: string; [k: string]: unknown }[] {
  return Array.from({ length: n }, () => {
    sequence += 1;
    return {
      type: 'track',
      event: 'Reliability',
      messageId: `${label}-${sequence}`,
      anonymousId: `visitor-${sequence % 37}`,
      properties: { label, n: sequence },
    };
  });
}

/** Clients posting batches back to back until `stop()`; resolves once they have all stopped. */
export async function postUntil(
  edgeUrl: string,
  label: string,
  acks: Acks,
  stop: () => boolean,
  options: { clients?: number; batch?: number } = {},
): Promise<void> {
  const client = async (c: number) => {
    while (!stop()) {
      const status = await postBatch(edgeUrl, trackEvents(`${label}${c}`, options.batch ?? 20), acks);
      if (status === 'network') await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: options.clients ?? 3 }, (_, c) => client(c)));
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000) {
  const stopAt = Date.now() + timeoutMs;
  while (Date.now() < stopAt) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** One scenario's servers, names and scratch space; `close()` removes what it created. */
export interface Pipeline {
  id: string;
  dir: string;
  ports: RealPorts;
  settings: LoaderSettings;
  brokers: string[];
  edgeUrl: string;
  /** The edge's config file: `startEdge()` runs it, a restart reuses it (same port, same spool). */
  edgeConfig: string;
  loaderConfig: string;
  startEdge(label?: string): Promise<ChildProcess>;
  /** `loader run` (or other args) as a child process; resolves with how it ended. */
  loader(
    args?: string[],
    options?: { env?: NodeJS.ProcessEnv; onLine?: (line: string, child: ChildProcess) => void },
  ): Promise<{ code: number | null; signal: string | null; log: string }>;
  /** messageId → rows in the events table, read through HiveServer2. */
  warehouseCounts(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export async function openPipeline(
  env: StackEnv,
  options: {
    label: string;
    /** A private broker's addresses (the shared stack's otherwise). */
    brokers?: string[];
    spoolDir?: string;
    /** The spool's own bound (the edge's default otherwise). */
    spoolMaxBytes?: number;
  },
): Promise<Pipeline> {
  const id = uniqueId(options.label.replaceAll('-', '_'));
  const dir = await mkdtemp(join(tmpdir(), `b2h-rel-${options.label}-`));
  const brokers = options.brokers ?? env.KAFKA_BROKERS.split(',');
  const ports = await openRealPorts({ ...env, KAFKA_BROKERS: brokers.join(',') });
  const settings = testSettings(id, { tempDir: join(dir, 'loader-tmp'), lockTtlMs: 60_000 });
  await ports.bus.ensureTopic(settings.topic, 3);
  const edgePort = await freePort();
  const edgeConfig = join(dir, 'edge.json');
  const spoolDir = options.spoolDir ?? join(dir, 'spool');
  const config = edgeTestConfig({
    port: edgePort,
    brokers,
    topic: settings.topic,
    spoolDir,
    overrides: {
      ...(options.spoolMaxBytes ? { spool: { dir: spoolDir, maxBytes: options.spoolMaxBytes } } : {}),
      sink: FAULT_TEST_SINK,
    },
  });
  await writeFile(edgeConfig, JSON.stringify(config));
  const loaderConfig = join(dir, 'loader.json');
  const loaderInput: LoaderConfigInput = {
    topic: settings.topic,
    group: settings.group,
    warehousePrefix: settings.warehousePrefix,
    tables: settings.tables,
    tempDir: settings.tempDir,
    lockTtlMinutes: 1,
    logLevel: 'info',
    bus: { kind: 'kafka', brokers, clientId: 'reliability-loader' },
    store: stackStoreConfig(env),
    catalog: stackCatalogConfig(env),
  };
  await writeFile(loaderConfig, JSON.stringify(loaderInput, null, 2));
  const children = new Set<ChildProcess>();
  let runs = 0;

  return {
    id,
    dir,
    ports,
    settings,
    brokers,
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    edgeConfig,
    loaderConfig,

    async startEdge(label = 'edge') {
      const logFile = join(dir, `${label}.log`);
      const child = spawn(process.execPath, [EDGE_ENTRY, '--config', edgeConfig], {
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const out = createWriteStream(logFile);
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      const url = `http://127.0.0.1:${edgePort}`;
      await waitUntil(
        'the edge answers /healthz',
        async () => {
          if (child.exitCode !== null) throw new Error(`edge exited: ${await readFile(logFile, 'utf8')}`);
          return (await fetch(`${url}/healthz`).catch(() => null))?.ok === true;
        },
        60_000,
      );
      return child;
    },

    async loader(args = ['run'], opts = {}) {
      runs += 1;
      const child = spawn(process.execPath, [LOADER_ENTRY, '-c', loaderConfig, ...args], {
        env: { ...process.env, LOG_LEVEL: 'info', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      let log = '';
      let partial = '';
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        log += text;
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.onLine?.(line, child);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      const end = await exited(child);
      await writeFile(join(dir, `loader-${runs}.log`), log);
      return { ...end, log };
    },

    async warehouseCounts() {
      const rows = await ports.catalog.query(
        `SELECT message_id, count(*) AS n FROM ${settings.tables.events} GROUP BY message_id`,
      );
      return new Map(rows.map((r) => [String(r.message_id), Number(r.n)]));
    },

    async close() {
      for (const child of children) child.kill('SIGKILL');
      await cleanupRealHarness(ports, settings);
      await ports.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The fault matrix's verdict for one scenario: acknowledged vs in Hive. */
export interface MatrixRow {
  scenario: string;
  acknowledged: number;
  inHive: number;
  lost: number;
  duplicated: number;
  /** A few lost ids, to start the search with when it is not zero. */
  lostSample?: string[];
}

export function compare(scenario: string, acked: Iterable<string>, counts: Map<string, number>): MatrixRow {
  const ids = [...acked];
  let lost = 0;
  let duplicated = 0;
  const lostSample: string[] = [];
  for (const id of ids) {
    const n = counts.get(id) ?? 0;
    if (n === 0 && ++lost <= 5) lostSample.push(id);
    if (n > 1) duplicated += n - 1;
  }
  const inHive = ids.length - lost;
  return {
    scenario,
    acknowledged: ids.length,
    inHive,
    lost,
    duplicated,
    ...(lost > 0 ? { lostSample } : {}),
  };
}

/** Prints the row (the docs' table is made from these lines) and returns it. */
export function report(row: MatrixRow): MatrixRow {
  console.log(`[fault-matrix] ${JSON.stringify(row)}`);
  return row;
}
