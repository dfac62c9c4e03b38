/**
 * @module Shared setup of the end-to-end tests: a one-machine process (the
 * real `node start.ts`) on free ports below 32768, in its own data
 * directory, with loads only when a test asks; the insights API as a client
 * sees it; and the warehouse read back through the embedded catalog.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DuckDbCatalog } from '../../shared/catalog/duckdb/duckdb-catalog.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import type { WarehouseTableNames } from '../../shared/warehouse.ts';
import { type OneMachineProcess, type RunInfo, requestLoad, startOneMachine } from '../demo/one-machine.ts';
import { freePort } from '../infra/free-port.ts';

export { freePort };

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * This run's own name for every warehouse table (`<prefix>_<suffix>_events`,
 * …): runs on the shared stack never share a table in Hive, rollups included.
 */
export function e2eTables(prefix: string, suffix: string): WarehouseTableNames {
  const name = (table: string) => `${prefix}_${suffix}_${table}`;
  return {
    events: name('events'),
    eventsHourly: name('hourly'),
    visitorsHourly: name('visitors'),
    sessionsHourly: name('sessions'),
    dimensionsHourly: name('dimensions'),
    eventTimesHourly: name('event_times'),
  };
}

export async function tempDataDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `b2h-e2e-${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The process on fresh ports (the same ones again on a restart: pass `ports` back). */
export async function startOnTestPorts(
  dataDir: string,
  options: { ports?: number[]; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<OneMachineProcess & { ports: number[] }> {
  const ports = options.ports ?? [await freePort(), await freePort(), await freePort()];
  const [edge, insights, control] = ports as [number, number, number];
  const started = await startOneMachine({
    dataDir,
    args: [
      '--edge-port',
      String(edge),
      '--insights-port',
      String(insights),
      '--control-port',
      String(control),
      '--loader-cron',
      'off',
      ...(options.args ?? []),
    ],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  return Object.assign(started, { ports });
}

/**
 * Waits out the start-up load (deploy/one-machine/compose.ts loads what an
 * earlier session left behind, in the background): a test that counts what
 * its own load took must not race it, or that load takes part of the events
 * and the test's load the rest. A requested load waits for a running one.
 */
export async function settled<T extends OneMachineProcess>(proc: T): Promise<T> {
  await requestLoad(proc.run);
  return proc;
}

/** The last lines the process logged, for a failing test's message. */
export async function logTail(proc: OneMachineProcess, lines = 40): Promise<string> {
  return (await readFile(proc.logFile, 'utf8').catch(() => '')).split('\n').slice(-lines).join('\n');
}

/** GET an insights endpoint with the project's read key; throws on a non-2xx answer. */
export async function askInsights<T = Record<string, unknown>>(
  run: RunInfo,
  endpoint: string,
  params: Record<string, string | string[]>,
): Promise<T> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) search.append(k, one);
  const response = await fetch(`${run.insightsUrl}/v1/insights/${endpoint}?${search}`, {
    headers: { authorization: `Bearer ${run.project.readKey}` },
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${endpoint} answered ${response.status}: ${body}`);
  return JSON.parse(body) as T;
}

/**
 * messageId → rows in the embedded warehouse of `dataDir`, read through the
 * same embedded catalog the process uses (its metadata and Parquet files).
 */
export async function warehouseMessageCounts(dataDir: string): Promise<Map<string, number>> {
  const catalog = await DuckDbCatalog.create({
    store: new DirObjectStore({ root: join(dataDir, 'warehouse') }),
    workDir: join(dataDir, 'tmp', 'e2e-reader'),
    logger: pino({ level: 'silent' }),
  });
  try {
    const rows = await catalog.query('SELECT message_id, COUNT(*) AS n FROM events GROUP BY message_id');
    return new Map(rows.map((r) => [String(r.message_id), Number(r.n)]));
  } finally {
    await catalog.close();
  }
}
