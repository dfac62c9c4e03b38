/**
 * @module `npm run bench:insights`: latency of each dashboard query on
 * embedded DuckDB (default 10M events over 1,000 projects) and HiveServer2
 * (a smaller warehouse: every Hive query is a local MapReduce job), with and
 * without rollups, the cache-hit path, and the requests per second one
 * insights process sustains on a mixed dashboard load of many projects.
 * Bounded: every phase stops at a sample count or a time budget. Generated
 * warehouses are kept in `$BEACON_CACHE/bench-insights/` and reused by later
 * runs. Ends with each goal of issue 17 against its target. Results are
 * printed and written to test-results/bench-insights.json.
 *
 * Over 300 lines: a benchmark whose phases share the warehouses it builds
 * and the report against issue 17's goals.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Hono } from 'hono';
import { createInsightsApp } from '../../insights/app.ts';
import type { AuthEnv } from '../../insights/auth.ts';
import type { Dialect } from '../../insights/dialect/dialect.ts';
import { duckdbDialect } from '../../insights/dialect/duckdb-dialect.ts';
import { hiveDialect } from '../../insights/dialect/hive-dialect.ts';
import {
  bulkProjectId,
  registerBulkWarehouse,
  writeBulkWarehouse,
} from '../../insights/fixtures/bulk-warehouse.ts';
import { createInsightsMetrics } from '../../insights/metrics.ts';
import { createProjectRegistry, type ProjectConfig } from '../../insights/projects.ts';
import type { WarehouseTables } from '../../insights/queries/query-context.ts';
import { createResultCache, DEFAULT_CACHE_OPTIONS } from '../../insights/result-cache.ts';
import { startInsights } from '../../insights/start.ts';
import type { Catalog } from '../../shared/catalog/catalog.ts';
import { DuckDbCatalog } from '../../shared/catalog/duckdb/duckdb-catalog.ts';
import { HiveCatalog } from '../../shared/catalog/hive/hive-catalog.ts';
import type { QueryEngine } from '../../shared/catalog/query-engine.ts';
import { createLogger } from '../../shared/logger.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import { S3ObjectStore } from '../../shared/object-store/s3/s3-object-store.ts';
import { rollupTableNames, tablesSchema } from '../../shared/warehouse.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import { seededRandom } from '../seeded-random.ts';

const program = new Command('bench:insights')
  .option('--events <n>', 'events in the DuckDB warehouse', Number, 10_000_000)
  .option('--projects <n>', 'projects in the DuckDB warehouse', Number, 1000)
  .option('--days <n>', 'days of data', Number, 30)
  .option('--samples <n>', 'requests per query and mode on DuckDB', Number, 25)
  .option('--query-budget <s>', 'seconds at most per query and mode', Number, 60)
  .option('--load-seconds <s>', 'seconds of mixed load, per cache setting', Number, 30)
  .option('--concurrency <n>', 'dashboard users at once in the mixed load', Number, 64)
  .option(
    '--scale-events <n>',
    'a second, bigger DuckDB warehouse for the growth of p95 (0: none)',
    Number,
    0,
  )
  .option('--hive-events <n>', 'events in the HiveServer2 warehouse', Number, 200_000)
  .option('--hive-projects <n>', 'projects in the HiveServer2 warehouse', Number, 100)
  .option('--hive-samples <n>', 'requests per query and mode on HiveServer2', Number, 5)
  .option('--no-hive', 'skip HiveServer2')
  .option('--generate-memory <size>', "DuckDB's memory limit while generating, e.g. 4GB (default: DuckDB's)")
  .option('--generate-only', 'generate the DuckDB warehouses into the bench cache (if missing) and stop')
  .option('--seed <n>', 'generator seed', Number, 1)
  .option('--out <file>', 'JSON results', 'test-results/bench-insights.json')
  .parse();
const opts = program.opts<{
  events: number;
  projects: number;
  days: number;
  samples: number;
  queryBudget: number;
  loadSeconds: number;
  concurrency: number;
  scaleEvents: number;
  hiveEvents: number;
  hiveProjects: number;
  hiveSamples: number;
  hive: boolean;
  generateOnly?: boolean;
  generateMemory?: string;
  seed: number;
  out: string;
}>();

const START_DAY = '2026-10-01';
const DAY = 86_400_000;
const logger = createLogger('bench-insights', 'error');
const keyOf = (project: string) => `rk_bench_${project}_0000000000`;

function projectsConfig(count: number): ProjectConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    id: bulkProjectId(i),
    readKeys: [keyOf(bulkProjectId(i))],
  }));
}

/**
 * The queries timed one by one: each distinct statement the dashboard sends (the UTM, OS and
 * entry/exit panels are the same statements as browsers and sources with another column).
 */
function measuredQueries(from: string, to: string, interval: 'hour' | 'day'): Record<string, string> {
  const r = `from=${from}&to=${to}`;
  return {
    summary: `/v1/insights/summary?${r}`,
    [`timeseries/${interval}`]: `/v1/insights/timeseries?${r}&interval=${interval}`,
    'top pages': `/v1/insights/top?${r}&dimension=page_path&event=%24pageview&limit=8`,
    'top referrers': `/v1/insights/top?${r}&dimension=referrer_host&limit=8`,
    'top countries': `/v1/insights/top?${r}&dimension=country&limit=8`,
    'top browsers': `/v1/insights/top?${r}&dimension=browser&limit=8`,
    'top devices': `/v1/insights/top?${r}&dimension=device&limit=8`,
    'top events': `/v1/insights/top?${r}&dimension=event&limit=11`,
    'visits sources': `/v1/insights/visits?${r}&dimension=source&limit=8`,
    funnel: `/v1/insights/funnel?${r}&step=Signed+Up&step=Added+to+Cart&step=Order+Completed&window=86400`,
    retention: `/v1/insights/retention?${r}`,
  };
}

/**
 * Every request one page view of the dashboard sends for a range (insights/dashboard/app.js,
 * `loadAll`): the summary, the chart and the previous period's, the thirteen ranked panels
 * (pages, sources, entry and exit pages per visit, countries, browsers, OS, devices, UTM
 * source/medium/campaign, events), the funnel and retention.
 */
function dashboardRequests(from: string, to: string, interval: 'hour' | 'day'): string[] {
  const r = `from=${from}&to=${to}`;
  const length = Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`);
  const before = new Date(Date.parse(`${from}T00:00:00Z`) - length).toISOString().slice(0, 10);
  const top = (dimension: string, extra = '') => `/v1/insights/top?${r}&dimension=${dimension}${extra}`;
  const visits = (dimension: string) => `/v1/insights/visits?${r}&dimension=${dimension}&limit=8`;
  return [
    `/v1/insights/summary?${r}`,
    `/v1/insights/timeseries?${r}&interval=${interval}`,
    `/v1/insights/timeseries?from=${before}&to=${from}&interval=${interval}`,
    top('page_path', '&event=%24pageview&limit=8'),
    visits('source'),
    visits('entry_page'),
    visits('exit_page'),
    ...['country', 'browser', 'os', 'device', 'utm_source', 'utm_medium', 'utm_campaign'].map((d) =>
      top(d, '&limit=8'),
    ),
    top('event', '&limit=11'),
    `/v1/insights/funnel?${r}&step=%24pageview&step=Signed+Up&step=Added+to+Cart&window=86400`,
    `/v1/insights/retention?${r}`,
  ];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Stat {
  engine: string;
  /** Events in the warehouse measured. */
  events: number;
  days: number;
  query: string;
  mode: string;
  n: number;
  p50: number;
  p95: number;
  /** Mean CPU of this process (DuckDB's threads included) per request: what a busy machine does not inflate as much. */
  cpuMs: number;
}

function stat(
  where: { engine: string; events: number; days: number },
  query: string,
  mode: string,
  ms: number[],
  cpuMs: number,
): Stat {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    ...where,
    query,
    mode,
    n: ms.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    cpuMs: ms.length === 0 ? 0 : cpuMs / ms.length,
  };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function appFor(
  catalog: QueryEngine,
  dialect: Dialect,
  tables: WarehouseTables,
  projects: number,
  rollups: boolean,
  cached: boolean,
) {
  return createInsightsApp({
    catalog,
    dialect,
    tables,
    projects: createProjectRegistry(projectsConfig(projects)),
    // A budget of one byte keeps nothing: every request reaches the engine.
    cache: createResultCache(cached ? DEFAULT_CACHE_OPTIONS : { ...DEFAULT_CACHE_OPTIONS, maxBytes: 1 }),
    metrics: createInsightsMetrics({ processMetrics: false }),
    logger,
    rollups,
    queryTimeoutMs: 600_000,
  });
}

async function timed(app: Hono<AuthEnv>, project: string, path: string): Promise<number> {
  const started = performance.now();
  const res = await app.request(path, { headers: { authorization: `Bearer ${keyOf(project)}` } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
  return performance.now() - started;
}

interface Engine {
  name: string;
  events: number;
  /** Measure the raw-only mode too (the same-run baseline). */
  raw: boolean;
  catalog: Catalog;
  dialect: Dialect;
  tables: WarehouseTables;
  projects: number;
  samples: number;
}

/** Per range (7 and 30 days) and query: uncached with rollups, uncached raw (where it differs), and the cache-hit path. */
async function measureQueries(engine: Engine, lastDay: number): Promise<Stat[]> {
  const rand = seededRandom(opts.seed + 7);
  const apps = {
    rollups: appFor(engine.catalog, engine.dialect, engine.tables, engine.projects, true, false),
    raw: appFor(engine.catalog, engine.dialect, engine.tables, engine.projects, false, false),
    cached: appFor(engine.catalog, engine.dialect, engine.tables, engine.projects, true, true),
  };
  const stats: Stat[] = [];
  // A warm process (the goal's terms): one untimed pass of the 7-day page for one project first, so
  // the first read of each rollup column from the rollups' database file is not a sample.
  const warmFrom = new Date(lastDay - 7 * DAY).toISOString().slice(0, 10);
  const warmTo = new Date(lastDay).toISOString().slice(0, 10);
  for (const path of Object.values({
    ...measuredQueries(warmFrom, warmTo, 'hour'),
    ...measuredQueries(warmFrom, warmTo, 'day'),
  }))
    await timed(apps.rollups, bulkProjectId(1), path);
  for (const days of [7, 30].filter((d) => d <= opts.days)) {
    const where = { engine: engine.name, events: engine.events, days };
    const from = new Date(lastDay - days * DAY).toISOString().slice(0, 10);
    const to = new Date(lastDay).toISOString().slice(0, 10);
    const queries = { ...measuredQueries(from, to, 'hour'), ...measuredQueries(from, to, 'day') };
    for (const [query, path] of Object.entries(queries)) {
      for (const mode of ['rollups', 'raw'] as const) {
        // The raw-only baseline over 7 days only: over 30 it takes many seconds a request.
        if (mode === 'raw' && (!engine.raw || days !== 7)) continue;
        const ms: number[] = [];
        const deadline = performance.now() + opts.queryBudget * 1000;
        const cpu = process.cpuUsage();
        // A different project each time, as when many merchants open their dashboards.
        while (ms.length < engine.samples && (ms.length < 3 || performance.now() < deadline)) {
          ms.push(await timed(apps[mode], bulkProjectId(Math.floor(rand() * engine.projects)), path));
        }
        stats.push(stat(where, query, mode === 'rollups' ? 'rollups on' : 'raw only', ms, cpuMsSince(cpu)));
        print(stats.at(-1) as Stat);
      }
      if (days !== 7) continue;
      const project = bulkProjectId(0);
      await timed(apps.cached, project, path);
      const hits: number[] = [];
      const cpu = process.cpuUsage();
      for (let i = 0; i < Math.max(20, engine.samples); i++)
        hits.push(await timed(apps.cached, project, path));
      stats.push(stat(where, query, 'cache hit', hits, cpuMsSince(cpu)));
      print(stats.at(-1) as Stat);
    }
  }
  return stats;
}

function print(s: Stat): void {
  console.log(
    `${s.engine.padEnd(7)} ${String(s.events).padStart(10)} ev ${String(s.days).padStart(2)} d  ${s.query.padEnd(16)} ${s.mode.padEnd(10)} n=${String(s.n).padStart(3)}  p50 ${s.p50.toFixed(1).padStart(8)} ms  p95 ${s.p95.toFixed(1).padStart(8)} ms  cpu ${s.cpuMs.toFixed(1).padStart(7)} ms/req`,
  );
}

interface LoadResult {
  cache: boolean;
  seconds: number;
  dashboards: number;
  requests: number;
  errors: number;
  qps: number;
  p50: number;
  p95: number;
  dashboardP95: number;
  cacheHitRatio: number;
}

/**
 * Many merchants at once over HTTP, as a dashboard audience behaves. Each
 * simulated user opens a project's dashboard (its eighteen requests at once,
 * as the page sends them), then the next one without pausing (a closed loop:
 * the most load these users can make). Projects are picked by popularity
 * (index ⌊N·u²⌋: the biggest sites are opened most, as their teams are
 * larger); the range is the page's default, the last 7 days, 70 % of the
 * time, 30 days 20 % and the last day (by the hour) 10 %; and half the time
 * the same view is opened again (a reload, a second tab, a colleague with
 * the same link): the case the cache and the sharing of identical requests
 * are for.
 */
async function mixedLoad(engine: Engine, lastDay: number, cache: boolean): Promise<LoadResult> {
  const insights = await startInsights(
    {
      http: { host: '127.0.0.1', port: 0 },
      projects: projectsConfig(engine.projects),
      engine: { kind: 'duckdb', store: { kind: 'dir', root: '/unused' } },
      tables: engine.tables,
      queryTimeoutMs: 600_000,
      cache: cache ? {} : { maxBytes: 1 },
      logLevel: 'error',
    },
    { catalog: engine.catalog, logger },
  );
  const rangeOf = (days: number) => ({
    from: new Date(lastDay - days * DAY).toISOString().slice(0, 10),
    to: new Date(lastDay).toISOString().slice(0, 10),
    interval: days <= 3 ? ('hour' as const) : ('day' as const),
  });
  const ranges = [...Array(7).fill(rangeOf(7)), rangeOf(30), rangeOf(30), rangeOf(1)];
  const latencies: number[] = [];
  const dashboardTimes: number[] = [];
  let errors = 0;
  let hits = 0;
  const started = performance.now();
  const end = started + opts.loadSeconds * 1000;
  const request = async (project: string, path: string) => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${insights.url}${path}`, {
        headers: { authorization: `Bearer ${keyOf(project)}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200) errors += 1;
      else if (res.headers.get('x-insights-cache') === 'hit') hits += 1;
      latencies.push(performance.now() - t0);
    } catch {
      errors += 1;
    }
  };
  const user = async (u: number) => {
    const rand = seededRandom(opts.seed * 1000 + u);
    while (performance.now() < end) {
      const project = bulkProjectId(Math.floor(engine.projects * rand() ** 2));
      const range = ranges[Math.floor(rand() * ranges.length)] ?? ranges[0];
      if (!range) return;
      const paths = dashboardRequests(range.from, range.to, range.interval);
      do {
        const t0 = performance.now();
        await Promise.all(paths.map((path) => request(project, path)));
        dashboardTimes.push(performance.now() - t0);
      } while (rand() < 0.5 && performance.now() < end);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, u) => user(u)));
  const seconds = (performance.now() - started) / 1000;
  await insights.close();
  const sorted = latencies.sort((a, b) => a - b);
  const result = {
    cache,
    seconds,
    dashboards: dashboardTimes.length,
    requests: latencies.length,
    errors,
    qps: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    dashboardP95: percentile(
      dashboardTimes.sort((a, b) => a - b),
      95,
    ),
    cacheHitRatio: latencies.length === 0 ? 0 : hits / latencies.length,
  };
  console.log(
    `mixed load, cache ${cache ? 'on ' : 'off'}, ${opts.concurrency} users: ${result.dashboards} dashboards, ${result.requests} requests in ${seconds.toFixed(1)} s = ${result.qps.toFixed(1)} req/s; request p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms; whole dashboard p95 ${result.dashboardP95.toFixed(0)} ms; cache hits ${(result.cacheHitRatio * 100).toFixed(0)}%; errors ${errors}`,
  );
  return result;
}

async function tableSizes(catalog: QueryEngine, tables: WarehouseTables): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, name] of Object.entries(tables)) {
    const rows = await catalog.query(`SELECT COUNT(*) AS n FROM ${name}`);
    out[key] = Number(rows[0]?.n ?? 0);
  }
  return out;
}

const TABLES: WarehouseTables = tablesSchema.parse({});

/** Bump when the generator or the rollups change: cached warehouses of another version are not reused. */
const WAREHOUSE_VERSION = 4;

/** The bulk warehouse of `events` events, generated once into the bench cache and reused. */
async function cachedWarehouse(events: number): Promise<{ dir: string; generateSeconds: number }> {
  const root = join(
    process.env.BEACON_CACHE ?? join(homedir(), '.cache', 'beacon-to-hive'),
    'bench-insights',
  );
  const dir = join(root, `v${WAREHOUSE_VERSION}-${events}ev-${opts.projects}p-${opts.days}d-s${opts.seed}`);
  if (existsSync(join(dir, '.complete'))) return { dir, generateSeconds: 0 };
  await rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  await writeBulkWarehouse(
    {
      events,
      projects: opts.projects,
      days: opts.days,
      startDay: START_DAY,
      seed: opts.seed,
      memoryLimit: opts.generateMemory,
    },
    join(dir, 'store', 'wh'),
  );
  await rm(join(dir, 'store', 'wh', '.spill'), { recursive: true, force: true });
  await writeFile(join(dir, '.complete'), new Date().toISOString());
  return { dir, generateSeconds: (performance.now() - t0) / 1000 };
}

async function benchDuckdb(events: number, withLoad: boolean): Promise<Record<string, unknown>> {
  const { dir, generateSeconds } = await cachedWarehouse(events);
  const work = await mkdtemp(join(tmpdir(), 'insights-bench-'));
  try {
    const store = new DirObjectStore({ root: join(dir, 'store') });
    // The bench's own metadata key: the cached files are shared, the catalog state is this run's.
    const catalog = await DuckDbCatalog.create({
      store,
      metadataKey: `_catalog/bench-${process.pid}.json`,
      workDir: join(work, 'work'),
      refreshIntervalMs: 60_000,
      // As the app's own timeout below: a query waiting for a connection is timed, not failed.
      queryTimeoutMs: 600_000,
      materializedTables: rollupTableNames(TABLES),
    });
    try {
      const t1 = performance.now();
      const files = await registerBulkWarehouse({
        dir: join(dir, 'store', 'wh'),
        store,
        catalog,
        prefix: 'wh/',
        tables: TABLES,
        upload: false,
      });
      const registerSeconds = (performance.now() - t1) / 1000;
      const sizes = await tableSizes(catalog, TABLES);
      console.log(
        `duckdb: ${events} events, ${opts.projects} projects, ${opts.days} days: ${generateSeconds > 0 ? `generated in ${generateSeconds.toFixed(1)} s` : 'from the bench cache'}, ${files} files registered (rollups materialized) in ${registerSeconds.toFixed(1)} s; rows ${JSON.stringify(sizes)}`,
      );
      const engine = {
        name: 'duckdb',
        events,
        raw: withLoad,
        catalog,
        dialect: duckdbDialect,
        tables: TABLES,
        projects: opts.projects,
        samples: opts.samples,
      };
      const lastDay = Date.parse(`${START_DAY}T00:00:00Z`) + opts.days * DAY;
      const queries = await measureQueries(engine, lastDay);
      const load = withLoad
        ? [await mixedLoad(engine, lastDay, true), await mixedLoad(engine, lastDay, false)]
        : [];
      return {
        events,
        projects: opts.projects,
        days: opts.days,
        generateSeconds,
        registerSeconds,
        files,
        rows: sizes,
        queries,
        load,
      };
    } finally {
      await catalog.close();
      await rm(join(dir, 'store', '_catalog'), { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function benchHive(): Promise<Record<string, unknown>> {
  const env = readStackEnv();
  const run = `insights_bench_${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), 'insights-bench-hive-'));
  const store = new S3ObjectStore({
    bucket: env.S3_BUCKET,
    prefix: run,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
  });
  const catalog = new HiveCatalog({
    host: env.HIVE_HOST,
    port: env.HIVE_PORT,
    auth: env.HIVE_AUTH,
    poolSize: 2,
  });
  const tables = Object.fromEntries(
    Object.entries(TABLES).map(([key, name]) => [key, `${run}_${name}`]),
  ) as WarehouseTables;
  try {
    await store.ensureBucket();
    const t0 = performance.now();
    await writeBulkWarehouse(
      {
        events: opts.hiveEvents,
        projects: opts.hiveProjects,
        days: opts.days,
        startDay: START_DAY,
        seed: opts.seed,
      },
      dir,
    );
    const files = await registerBulkWarehouse({ dir, store, catalog, prefix: '', tables, upload: true });
    const loadSeconds = (performance.now() - t0) / 1000;
    const sizes = await tableSizes(catalog, tables);
    console.log(
      `hive: ${opts.hiveEvents} events, ${opts.hiveProjects} projects: ${files} files generated, uploaded and registered in ${loadSeconds.toFixed(1)} s; rows ${JSON.stringify(sizes)}`,
    );
    const engine = {
      name: 'hive',
      events: opts.hiveEvents,
      raw: true,
      catalog,
      dialect: hiveDialect,
      tables,
      projects: opts.hiveProjects,
      samples: opts.hiveSamples,
    };
    const lastDay = Date.parse(`${START_DAY}T00:00:00Z`) + opts.days * DAY;
    const queries = await measureQueries(engine, lastDay);
    return {
      events: opts.hiveEvents,
      projects: opts.hiveProjects,
      days: opts.days,
      files,
      rows: sizes,
      queries,
    };
  } finally {
    for (const table of Object.values(tables)) await catalog.dropTable(table).catch(() => undefined);
    await catalog.close();
    // Not deletePrefix: Hive's S3A leaves `dir/` markers that the store lists but will not delete as keys.
    const keys: string[] = [];
    for await (const info of store.list('')) if (!info.key.endsWith('/')) keys.push(info.key);
    for (let i = 0; i < keys.length; i += 1000) await store.delete(keys.slice(i, i + 1000));
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (opts.generateOnly) {
  for (const events of [opts.events, opts.scaleEvents].filter((n) => n > 0)) {
    const { dir, generateSeconds } = await cachedWarehouse(events);
    console.log(
      `${events} events: ${generateSeconds > 0 ? `generated in ${generateSeconds.toFixed(1)} s` : 'already in the bench cache'} (${dir})`,
    );
  }
  process.exit(0);
}

const results: Record<string, unknown> = { startedAt: new Date().toISOString(), options: opts };
const main = await benchDuckdb(opts.events, true);
results.duckdb = main;
const scaled = opts.scaleEvents > 0 ? await benchDuckdb(opts.scaleEvents, false) : undefined;
if (scaled) results.duckdbScaled = scaled;
if (opts.hive) results.hive = await benchHive();
results.cpuSeconds = cpuMsSince({ user: 0, system: 0 }) / 1000;
results.peakRssMb = process.resourceUsage().maxRSS / 1024;
results.goals = printGoals(main, scaled);
console.log(
  `process CPU ${(results.cpuSeconds as number).toFixed(0)} s, peak RSS ${(results.peakRssMb as number).toFixed(0)} MB`,
);
await mkdir('test-results', { recursive: true });
await writeFile(opts.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results written to ${opts.out}`);

/** Issue 17's goals, each against its target, from this run's numbers. */
function printGoals(main: Record<string, unknown>, scaled: Record<string, unknown> | undefined): unknown[] {
  const stats = main.queries as Stat[];
  const goals: { goal: string; value: string; target: string; met: boolean }[] = [];
  const rollupStats = stats.filter((q) => q.mode === 'rollups on');
  const worst = rollupStats.reduce((a, b) => (b.p95 > a.p95 ? b : a), rollupStats[0] as Stat);
  goals.push({
    goal: `p95 of every endpoint, ${main.events} events, 7 and 30 days, cache off`,
    value: `worst ${worst.p95.toFixed(0)} ms (${worst.query}, ${worst.days} d)`,
    target: '< 100 ms',
    met: worst.p95 < 100,
  });
  for (const q of rollupStats) {
    const raw = stats.find((r) => r.mode === 'raw only' && r.query === q.query && r.days === q.days);
    if (raw) {
      console.log(
        `  ${String(q.days).padStart(2)} d ${q.query.padEnd(16)} p95 ${q.p95.toFixed(1).padStart(8)} ms vs raw only ${raw.p95.toFixed(1).padStart(8)} ms: ${(raw.p95 / q.p95).toFixed(1)}x`,
      );
    }
  }
  const [on] = main.load as LoadResult[];
  if (on) {
    goals.push({
      goal: `mixed load, cache on, ${opts.concurrency} users: requests/s`,
      value: on.qps.toFixed(0),
      target: '>= 1000',
      met: on.qps >= 1000,
    });
    goals.push({
      goal: `whole dashboard p95 at ${opts.concurrency} users`,
      value: `${on.dashboardP95.toFixed(0)} ms`,
      target: '< 1000 ms',
      met: on.dashboardP95 < 1000,
    });
  }
  if (scaled) {
    const big = scaled.queries as Stat[];
    let worstGrowth = { ratio: 0, label: '' };
    for (const q of rollupStats) {
      const b = big.find((x) => x.mode === q.mode && x.query === q.query && x.days === q.days);
      if (!b) continue;
      const ratio = b.p95 / q.p95;
      console.log(
        `  ${String(q.days).padStart(2)} d ${q.query.padEnd(16)} p95 ${q.p95.toFixed(1).padStart(8)} ms at ${main.events} -> ${b.p95.toFixed(1).padStart(8)} ms at ${scaled.events}: ${ratio.toFixed(2)}x`,
      );
      if (ratio > worstGrowth.ratio) worstGrowth = { ratio, label: `${q.query}, ${q.days} d` };
    }
    goals.push({
      goal: `growth of p95, rollup-served, ${main.events} -> ${scaled.events} events`,
      value: `worst ${worstGrowth.ratio.toFixed(2)}x (${worstGrowth.label})`,
      target: '< 2x',
      met: worstGrowth.ratio < 2,
    });
  }
  console.log('goals (issue 17):');
  for (const g of goals) {
    console.log(`  ${g.met ? 'MET    ' : 'NOT MET'} ${g.goal}: ${g.value} (target ${g.target})`);
  }
  return goals;
}
