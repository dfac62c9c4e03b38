/**
 * @module Benchmark: the loader from Kafka with the dir store and DuckDB
 * catalog, and on the real stack (Parquet on S3, registered in HiveServer2),
 * against its two ceilings on the same events: only consuming the range from
 * Kafka (the read ceiling) and DuckDB turning the same rows from NDJSON into
 * Parquet (the write ceiling). Then the bytes of its files against a DuckDB
 * COPY of the same rows with the best settings tried, and the peak RSS of a
 * load of one big hour (`--hour-count`, 5M by default) on the embedded
 * adapters. The load also runs with `archive: false` and with
 * `sortEvents: false`, so the raw archive's and the sort's costs are ratios
 * measured in the same run. `--spark` adds Spark Structured Streaming on the
 * same topic (test/bench/spark-baseline.ts), the tool a user would otherwise
 * pick. Each phase runs in its own child process, so its peak RSS and CPU
 * seconds are its own.
 *
 *   npm run bench:loader                   # 1,000,000 events, a 5,000,000-event hour
 *   npm run bench:loader -- --count 100000 --hour-count 500000 --spark
 *   npm run bench:loader -- --count 300000 --loaders 1,2,3
 *
 * `--loaders` measures scale-out instead (loader/README.md, "Scale-out"): for
 * each n, n real loader processes (`loader run`, scaled out, no compaction)
 * load the same topic of 6 partitions as one consumer group, each n into its
 * own group, prefix and tables; events/s is the events over the wall time
 * until the last process exits, with each process's CPU seconds and peak RSS,
 * against one loader process over the same topic with scale-out off.
 *
 * Over 300 lines: a benchmark whose phases (each a child process) share the
 * produced topic, the settings and the report against the ceilings.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { compactHours } from '../../loader/compaction/compact.ts';
import { loaderHarness, testSettings, uniqueId } from '../../loader/fixtures/loader-harness.ts';
import { cleanupRealHarness, openRealPorts, writeLoaderConfig } from '../../loader/fixtures/real-ports.ts';
import { syntheticEvents } from '../../loader/fixtures/synthetic-events.ts';
import { parseHour } from '../../loader/layout.ts';
import type { LoaderDeps, LoaderSettings } from '../../loader/loader-deps.ts';
import { openLoaderDuckDb, ZSTD_LEVEL } from '../../loader/parquet/loader-duckdb.ts';
import { runOnce } from '../../loader/run-once.ts';
import { toEventRow } from '../../loader/steps/map-event.ts';
import { openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { DuckDbCatalog } from '../../shared/catalog/duckdb/duckdb-catalog.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import { SPARK_COLUMNS, SPARK_VERSION, sparkBaseline } from './spark-baseline.ts';

interface Phase {
  phase: string;
  events: number;
  seconds: number;
  maxRssMb: number;
  /** User + system CPU seconds of the child process (DuckDB's threads included). */
  cpuSeconds?: number;
  extra?: Record<string, number>;
}

const PARTITIONS = 4;
/** Scale-out runs: more partitions than processes, so 1, 2 and 3 processes each get whole slots. */
const SCALE_OUT_PARTITIONS = 6;
/** The loader's DuckDB memory limit for the big hour: with it, the whole process stays under 512 MB. */
const HOUR_MEMORY_LIMIT = '256MB';

function eventsFor(count: number) {
  // Spread over the last three hours (Kafka refuses timestamps far ahead of its clock).
  const startMs = (Math.floor(Date.now() / 3_600_000) - 3) * 3_600_000;
  return syntheticEvents(count, { seed: 99, startMs, spanMs: 3 * 3_600_000 });
}

function rss(): number {
  return process.resourceUsage().maxRSS / 1024;
}

interface LoaderProcess {
  code: number;
  cpuSeconds: number;
  maxRssMb: number;
}

/** One scaled-out loader process: the real CLI's `run`, then its own CPU time and peak RSS. */
async function scaledChild(config: string): Promise<LoaderProcess> {
  const { main: loaderMain } = await import('../../loader/cli.ts');
  const code = await loaderMain([process.execPath, 'loader', '-c', config, 'run', '--no-compact']);
  const u = process.resourceUsage();
  return { code, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMb: u.maxRSS / 1024 };
}

function spawnScaled(config: string): Promise<LoaderProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [import.meta.filename, '--scaled', config], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    c.on('error', reject);
    c.on('exit', () => resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoaderProcess));
  });
}

/** n processes on the produced topic, into a group, prefix and tables of their own; n = 0: one loader, not scaled out. */
async function scaledRun(id: string, n: number, count: number, dir: string) {
  const env = readStackEnv();
  const own = testSettings(`${id}_l${n}`);
  const scaled = n > 0;
  const settings = { ...own, topic: testSettings(id).topic, tempDir: join(dir, `l${n}`), logLevel: 'warn' };
  const file = await writeLoaderConfig(dir, env, settings);
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const path = join(dir, `loaders-${n}.json`);
  await writeFile(path, JSON.stringify({ ...config, scaleOut: { enabled: scaled } }));
  const t = performance.now();
  const processes = await Promise.all(Array.from({ length: Math.max(1, n) }, () => spawnScaled(path)));
  const seconds = (performance.now() - t) / 1000;
  if (processes.some((p) => p.code !== 0))
    throw new Error(`a loader process failed: ${JSON.stringify(processes)}`);
  const ports = await openRealPorts(env);
  try {
    const [row] = await ports.catalog.query(`SELECT count(*) AS n FROM ${own.tables.events}`);
    if (Number(row?.n) !== count) throw new Error(`${n} loaders loaded ${row?.n} events, not ${count}`);
  } finally {
    await ports.close();
  }
  return { n, seconds, processes };
}

async function scaleOut(id: string, count: number, dir: string, list: number[]): Promise<void> {
  const env = readStackEnv();
  const ports = await openRealPorts(env);
  try {
    const h = await loaderHarness(ports, { id, partitions: SCALE_OUT_PARTITIONS });
    const t = performance.now();
    const batch = [];
    for (const e of eventsFor(count)) {
      batch.push(e);
      if (batch.length === 5000) await h.produce(batch.splice(0));
    }
    await h.produce(batch);
    console.log(
      `produced ${count} events to ${SCALE_OUT_PARTITIONS} partitions in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  } finally {
    await ports.close();
  }
  // The baseline, in the same run: one loader over the whole topic, not scaled out.
  const runs = [await scaledRun(id, 0, count, dir)];
  for (const n of list) runs.push(await scaledRun(id, n, count, dir));
  const base = runs[0] as (typeof runs)[number];
  console.log(
    `\n| loaders | events | wall s | events/s | ÷ one loader, not scaled out | CPU s per process | peak RSS MB per process |\n|---|---|---|---|---|---|---|`,
  );
  for (const r of runs) {
    console.log(
      `| ${r.n === 0 ? '1, not scaled out' : `${r.n} scaled out`} | ${count.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(count / r.seconds).toLocaleString('en')} | ${(base.seconds / r.seconds).toFixed(2)} | ${r.processes.map((p) => p.cpuSeconds.toFixed(1)).join(', ')} | ${r.processes.map((p) => p.maxRssMb.toFixed(0)).join(', ')} |`,
    );
  }
  for (const n of [0, ...list])
    await cleanupRealHarness(await openRealPortsOnce(), testSettings(`${id}_l${n}`));
}

let reused: Awaited<ReturnType<typeof openRealPorts>> | null = null;
async function openRealPortsOnce() {
  reused ??= await openRealPorts(readStackEnv());
  return reused;
}

/** This process's CPU seconds (every thread: DuckDB's included). */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Peak V8 heap and off-heap (Buffers, typed arrays) of this process, sampled:
 * beside the peak RSS they split the load's memory into JavaScript's and the
 * rest (DuckDB, the allocator, code).
 */
function sampleMemory(): () => { peakHeapMb: number; peakExternalMb: number } {
  let heap = 0;
  let external = 0;
  const take = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapTotal);
    external = Math.max(external, m.external);
  };
  const timer = setInterval(take, 200);
  timer.unref();
  return () => {
    take();
    clearInterval(timer);
    return { peakHeapMb: heap / 2 ** 20, peakExternalMb: external / 2 ** 20 };
  };
}

/** A compaction pass over the loaded hours (named, so no grace period applies): its cost and the bytes it leaves. */
async function compactLoaded(deps: LoaderDeps, hours: string[]): Promise<Record<string, number>> {
  const cpu0 = cpu();
  const t = performance.now();
  const r = await compactHours({ ...deps, logger: pino({ level: 'warn' }) }, { hours: hours.map(parseHour) });
  return {
    compactSeconds: (performance.now() - t) / 1000,
    compactCpuSeconds: cpu() - cpu0,
    compactedFiles: r.hours.reduce((n, h) => n + h.filesAfter, 0),
    compactedBytes: r.hours.reduce((n, h) => n + h.bytesAfter, 0),
    compactedRows: r.hours.reduce((n, h) => n + h.rows, 0),
  };
}

/** Local paths of the events files a dir store holds now. */
async function eventFiles(store: DirObjectStore, root: string, deps: LoaderDeps): Promise<string[]> {
  const files: string[] = [];
  for await (const o of store.list(`${deps.settings.warehousePrefix}events/`))
    if (o.key.endsWith('.parquet')) files.push(join(root, o.key));
  return files;
}

/** One load (`runOnce`) timed: its wall seconds and this process's CPU seconds over it. */
async function timedLoad(deps: LoaderDeps) {
  const cpu0 = cpu();
  const t = performance.now();
  const result = await runOnce({ ...deps, logger: pino({ level: 'warn' }) });
  return { result, seconds: (performance.now() - t) / 1000, cpuSeconds: cpu() - cpu0 };
}

/** A timed load as a phase: its files, bytes and steps' seconds among the extras. */
function loadPhase(
  phase: string,
  { result, seconds, cpuSeconds }: Awaited<ReturnType<typeof timedLoad>>,
  extra: Record<string, number>,
): Phase {
  return {
    phase,
    events: result.events,
    seconds,
    maxRssMb: rss(),
    cpuSeconds,
    extra: { files: result.files, bytes: result.bytes, ...result.steps, ...extra },
  };
}

/** The loader's own files, rewritten by DuckDB COPY with each candidate setting: the smallest is the bar. */
async function bestCopy(dir: string, files: string[]): Promise<Record<string, number>> {
  const duckdb = await import('@duckdb/node-api');
  const instance = await duckdb.DuckDBInstance.create(':memory:', {
    memory_limit: '1GB',
    threads: '2',
    temp_directory: dir,
    preserve_insertion_order: 'false',
  });
  const conn = await instance.connect();
  const list = files.map((f) => `'${f}'`).join(', ');
  const sizes: Record<string, number> = {};
  const candidates: [string, string, string][] = [
    [
      'zstd 3, 100k rows, by project/time',
      'COMPRESSION zstd, ROW_GROUP_SIZE 100000',
      'project_id, event_time',
    ],
    [
      'zstd 9, 100k rows, by project/time',
      'COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 100000',
      'project_id, event_time',
    ],
    [
      'zstd 9, 1M rows, by project/time',
      'COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 1000000',
      'project_id, event_time',
    ],
    [
      'zstd 19, 1M rows, by project/time',
      'COMPRESSION zstd, COMPRESSION_LEVEL 19, ROW_GROUP_SIZE 1000000',
      'project_id, event_time',
    ],
    [
      'zstd 9, 1M rows, by project/visitor/time',
      'COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 1000000',
      'project_id, visitor_id, event_time',
    ],
  ];
  for (const [name, options, order] of candidates) {
    const out = join(dir, 'best.parquet');
    await conn.run(
      `COPY (SELECT * FROM read_parquet([${list}]) ORDER BY ${order}) TO '${out}' (FORMAT parquet, ${options})`,
    );
    sizes[name] = (await stat(out)).size;
    await rm(out, { force: true });
  }
  // Per column, what the loader's own files spend (compressed, all row groups).
  const columns = await conn.runAndReadAll(
    `SELECT path_in_schema, sum(total_compressed_size)::BIGINT FROM parquet_metadata([${list}]) GROUP BY 1 ORDER BY 2 DESC`,
  );
  for (const [column, bytes] of columns.getRows()) sizes[`column ${String(column)}`] = Number(bytes);
  conn.closeSync();
  instance.closeSync();
  return sizes;
}

async function child(
  phase: string,
  id: string,
  count: number,
  dir: string,
  hourSettings: Partial<LoaderSettings> = {},
): Promise<Phase> {
  if (phase === 'duckdb') {
    const ndjson = join(dir, 'rows.ndjson');
    const out = createWriteStream(ndjson);
    for (const e of eventsFor(count)) {
      if (!out.write(`${JSON.stringify(toEventRow(e, 0))}\n`))
        await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
    const settings = testSettings(id);
    const duckdb = await openLoaderDuckDb({
      memoryLimit: settings.duckdbMemoryLimit,
      threads: settings.duckdbThreads,
      tempDir: dir,
      rowGroupSize: settings.rowGroupSize,
      sortEvents: settings.sortEvents,
    });
    const cpu0 = cpu();
    const t = performance.now();
    const rows = await duckdb.eventsToParquet(ndjson, join(dir, 'out.parquet'));
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = cpu() - cpu0;
    duckdb.close();
    return {
      phase,
      events: rows,
      seconds,
      maxRssMb: rss(),
      cpuSeconds,
      extra: { bytes: (await stat(join(dir, 'out.parquet'))).size },
    };
  }
  if (phase === 'hour-produce' || phase === 'hour') {
    // One big hour on the embedded adapters (produced by one child, loaded by the next, so the load's
    // peak RSS is its own): the loader's memory, whatever the size of an hour.
    const root = join(dir, 'hour');
    const bus = await openLocalLogBus({ dir: join(root, 'bus'), fsync: 'never' });
    const store = new DirObjectStore({ root: join(root, 'warehouse') });
    const catalog = await DuckDbCatalog.create({
      store,
      workDir: join(root, 'duckdb'),
      refreshIntervalMs: 0,
    });
    try {
      const h = await loaderHarness(
        { bus, store, catalog },
        {
          id: `${id}_h`,
          settings: { tempDir: join(root, 'tmp'), duckdbMemoryLimit: HOUR_MEMORY_LIMIT, ...hourSettings },
        },
      );
      const t = performance.now();
      if (phase === 'hour-produce') {
        const startMs = (Math.floor(Date.now() / 3_600_000) - 2) * 3_600_000;
        const batch = [];
        for (const ev of syntheticEvents(count, { seed: 7, startMs, spanMs: 3_599_000 })) {
          batch.push(ev);
          if (batch.length === 5000) await h.produce(batch.splice(0));
        }
        await h.produce(batch);
        return { phase, events: count, seconds: (performance.now() - t) / 1000, maxRssMb: rss() };
      }
      const cpu0 = cpu();
      const memory = sampleMemory();
      const result = await runOnce({ ...h.deps, logger: pino({ level: 'warn' }) });
      const seconds = (performance.now() - t) / 1000;
      const cpuSeconds = cpu() - cpu0;
      const maxRssMb = rss();
      const { peakHeapMb, peakExternalMb } = memory();
      // Then what compaction makes of the hour (a scheduled run compacts it once it is closed), and
      // the best COPY of it, which rewrites the hour five times: only for hours of up to a million events.
      // At the hour's 256MB, DuckDB's sort of the whole hour ran out of memory: compaction gets the default.
      const small = count <= 1_000_000;
      const compactDeps = { ...h.deps, settings: { ...h.deps.settings, duckdbMemoryLimit: '1GB' } };
      const compacted = small ? await compactLoaded(compactDeps, result.hours) : {};
      const copies = small
        ? await bestCopy(dir, await eventFiles(store, join(root, 'warehouse'), h.deps))
        : {};
      return {
        phase,
        events: result.events,
        seconds,
        maxRssMb,
        cpuSeconds,
        extra: {
          files: result.files,
          bytes: result.bytes,
          peakHeapMb,
          peakExternalMb,
          ...compacted,
          rssAfterCompactionMb: rss(),
          ...copies,
        },
      };
    } finally {
      await catalog.close();
      await bus.close();
    }
  }
  const env = readStackEnv();
  const ports = await openRealPorts(env);
  let dirCatalog: DuckDbCatalog | undefined;
  try {
    if (phase === 'load-dir') {
      // The same topic, read under its own group into a dir store with the DuckDB catalog.
      const store = new DirObjectStore({ root: join(dir, 'warehouse') });
      dirCatalog = await DuckDbCatalog.create({ store, workDir: join(dir, 'duckdb'), refreshIntervalMs: 0 });
      const own = testSettings(`${id}_d`);
      const h = await loaderHarness(
        { bus: ports.bus, store, catalog: dirCatalog },
        {
          id,
          partitions: PARTITIONS,
          settings: { tempDir: join(dir, 'loader-dir'), group: own.group },
        },
      );
      const load = await timedLoad(h.deps);
      const compacted = await compactLoaded(h.deps, load.result.hours);
      const files = await eventFiles(store, join(dir, 'warehouse'), h.deps);
      return loadPhase(phase, load, { ...compacted, ...(await bestCopy(dir, files)) });
    }
    // The unsorted load reads the same topic under its own group, prefix and tables.
    const unsorted = phase === 'load-unsorted';
    const noArchive = phase === 'load-no-archive';
    const own = testSettings(`${id}_${noArchive ? 'n' : 'u'}`);
    const h = await loaderHarness(ports, {
      id,
      partitions: PARTITIONS,
      settings: {
        tempDir: join(dir, 'loader'),
        duckdbMemoryLimit: '1GB',
        ...(unsorted || noArchive
          ? {
              ...(unsorted ? { sortEvents: false } : { archive: false }),
              group: own.group,
              warehousePrefix: own.warehousePrefix,
              tables: own.tables,
            }
          : {}),
      },
    });
    if (phase === 'produce') {
      const batch = [];
      const t = performance.now();
      for (const e of eventsFor(count)) {
        batch.push(e);
        if (batch.length === 5000) await h.produce(batch.splice(0));
      }
      await h.produce(batch);
      return { phase, events: count, seconds: (performance.now() - t) / 1000, maxRssMb: rss() };
    }
    if (phase === 'consume') {
      const cpu0 = cpu();
      const t = performance.now();
      let n = 0;
      for (const m of await ports.bus.watermarks(h.deps.settings.topic)) {
        for await (const b of ports.bus.read(h.deps.settings.topic, m.partition, m.low, m.high))
          n += b.length;
      }
      return {
        phase,
        events: n,
        seconds: (performance.now() - t) / 1000,
        maxRssMb: rss(),
        cpuSeconds: cpu() - cpu0,
      };
    }
    const load = await timedLoad(h.deps);
    let indexBytes = 0;
    for await (const o of ports.store.list(`${h.deps.settings.warehousePrefix}_loader/dedup/`))
      indexBytes += o.size;
    return loadPhase(phase, load, {
      archivedBytes: load.result.archived?.bytes ?? 0,
      archivedObjects: load.result.archived?.objects ?? 0,
      indexBytes,
      duplicates: load.result.duplicates,
    });
  } finally {
    await dirCatalog?.close();
    await ports.close();
  }
}

function runChild(phase: string, id: string, count: number, dir: string, hourSettings = '{}'): Phase {
  const out = execFileSync(
    process.execPath,
    [
      import.meta.filename,
      ...['--child', phase, '--id', id, '--count', String(count), '--dir', dir],
      ...['--hour-settings', hourSettings],
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Phase;
}

function ratioLine(label: string, value: number, goal: string, ok: boolean): string {
  return `${ok ? 'MET    ' : 'NOT MET'}  ${label}: ${value} (goal ${goal})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      'hour-count': { type: 'string', default: '5000000' },
      /** Loader settings for the big hour, as JSON (e.g. '{"convertConcurrency":1}'): memory against them. */
      'hour-settings': { type: 'string', default: '{}' },
      child: { type: 'string' },
      id: { type: 'string' },
      dir: { type: 'string' },
      loaders: { type: 'string' },
      spark: { type: 'boolean', default: false },
      scaled: { type: 'string' },
    },
  });
  const count = Number(values.count);
  if (values.scaled) {
    process.stdout.write(`${JSON.stringify(await scaledChild(values.scaled))}\n`);
    return;
  }
  if (values.child) {
    const hourSettings = JSON.parse(values['hour-settings']) as Partial<LoaderSettings>;
    const result = await child(values.child, values.id ?? '', count, values.dir ?? tmpdir(), hourSettings);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const id = uniqueId('bench');
  const dir = await mkdtemp(join(tmpdir(), 'bench-loader-'));
  const rate = (p: Phase) => p.events / p.seconds;
  if (values.loaders) {
    try {
      await scaleOut(id, count, dir, values.loaders.split(',').map(Number));
    } finally {
      await cleanupRealHarness(await openRealPortsOnce(), testSettings(id));
      await reused?.close();
      await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  try {
    const produce = runChild('produce', id, count, dir);
    console.log(
      `produced ${produce.events} events in ${produce.seconds.toFixed(1)} s (${Math.round(rate(produce))}/s)`,
    );
    const consume = runChild('consume', id, count, dir);
    const duckdb = runChild('duckdb', id, count, dir);
    const loadDir = runChild('load-dir', id, count, dir);
    const loadNoArchive = runChild('load-no-archive', id, count, dir);
    const load = runChild('load', id, count, dir);
    const loadUnsorted = runChild('load-unsorted', id, count, dir);
    const spark = values.spark ? await sparkBaseline({ id, count, dir }) : undefined;
    runChild('hour-produce', id, Number(values['hour-count']), dir);
    const hour = runChild('hour', id, Number(values['hour-count']), dir, values['hour-settings']);
    const line = (name: string, p: Phase) =>
      `| ${name} | ${p.events.toLocaleString('en')} | ${p.seconds.toFixed(1)} | ${Math.round(rate(p)).toLocaleString('en')} | ${(rate(loadDir) / rate(p)).toFixed(2)} | ${p.cpuSeconds?.toFixed(1) ?? '-'} | ${p.maxRssMb.toFixed(0)} |`;
    console.log(
      `\n| phase | events | s | events/s | loader (dir) ÷ this | CPU s | peak RSS MB |\n|---|---|---|---|---|---|---|`,
    );
    console.log(line('loader: Kafka → Parquet in a dir store, DuckDB catalog, rollups, commit', loadDir));
    console.log(line('loader: Kafka → Parquet on S3, registered in Hive, rollups, commit', load));
    console.log(line('loader without the raw archive (archive: false)', loadNoArchive));
    console.log(line('loader, files not sorted by project (sortEvents: false)', loadUnsorted));
    if (spark)
      console.log(
        line(`Spark ${SPARK_VERSION} Structured Streaming: Kafka → Parquet dt/hour (availableNow)`, spark),
      );
    console.log(line('read ceiling: consume the same range from Kafka', consume));
    console.log(line('write ceiling: DuckDB NDJSON of mapped rows → Parquet (zstd, sorted)', duckdb));
    console.log(
      line(
        `one hour of ${hour.events.toLocaleString('en')} events, embedded adapters, duckdb.memoryLimit ${HOUR_MEMORY_LIMIT}`,
        hour,
      ),
    );
    const d = loadDir.extra ?? {};
    const x = load.extra ?? {};
    const stepsOf = (e: Record<string, number>) =>
      ['plan', 'consume', 'upload', 'register', 'rollups', 'commit']
        .map((k) => `${k} ${e[k] ?? '-'}`)
        .join(', ');
    console.log(`\nloader steps (s), dir: ${stepsOf(d)}`);
    console.log(`loader steps (s), S3 + Hive: ${stepsOf(x)}`);
    console.log(
      `\nloader wrote ${x.files} files, ${((x.bytes ?? 0) / 1e6).toFixed(1)} MB Parquet (${((x.bytes ?? 0) / load.events).toFixed(1)} B/event); dedup index ${((x.indexBytes ?? 0) / 1e6).toFixed(2)} MB (${((x.indexBytes ?? 0) / load.events).toFixed(2)} B/event)`,
    );
    const copies = Object.entries(d).filter(([k]) => k.includes('rows, by'));
    const best = Math.min(...copies.map(([, v]) => v));
    const perEvent = (v: number | undefined, n: number) => ((v ?? 0) / n).toFixed(1);
    console.log(`\nbytes/event, the same rows (dir run: ${d.files} files):`);
    console.log(`  loader, as loaded: ${perEvent(d.bytes, loadDir.events)}`);
    console.log(
      `  loader, after compaction (${d.compactedFiles} files, zstd ${ZSTD_LEVEL}; ${d.compactSeconds?.toFixed(1)} s, ${d.compactCpuSeconds?.toFixed(1)} CPU s): ${perEvent(d.compactedBytes, loadDir.events)}`,
    );
    for (const [k, v] of copies) console.log(`  DuckDB COPY, ${k}: ${perEvent(v, loadDir.events)}`);
    const hx = hour.extra ?? {};
    const hourCopies = Object.entries(hx).filter(([k]) => k.includes('rows, by'));
    console.log(
      hx.compactedBytes === undefined
        ? `the big hour: as loaded ${perEvent(hx.bytes, hour.events)} (compaction and COPY only for hours of up to 1M events)`
        : `the big hour: as loaded ${perEvent(hx.bytes, hour.events)}, compacted ${perEvent(hx.compactedBytes, hour.events)} (${hx.compactSeconds?.toFixed(1)} s, ${hx.compactCpuSeconds?.toFixed(1)} CPU s, peak RSS ${hx.rssAfterCompactionMb?.toFixed(0)} MB with it), best COPY ${perEvent(Math.min(...hourCopies.map(([, v]) => v)), hour.events)}`,
    );
    console.log(
      `the big hour's memory: peak RSS ${hour.maxRssMb.toFixed(0)} MB, of it V8 heap ≤ ${hx.peakHeapMb?.toFixed(0)} MB and off-heap buffers ≤ ${hx.peakExternalMb?.toFixed(0)} MB; the rest is DuckDB, the allocator and code`,
    );
    console.log("per column, the loader's compacted files (MB per million events):");
    for (const [k, v] of Object.entries(d).filter(([k]) => k.startsWith('column ')))
      console.log(`  ${k.slice(7)}: ${(((v / loadDir.events) * 1e6) / 1e6).toFixed(2)}`);
    const rollupShare = (x.rollups ?? 0) / load.seconds;
    console.log('\ngoals:');
    console.log(
      ratioLine(
        'loader ev/s, dir store + DuckDB catalog',
        Math.round(rate(loadDir)),
        '≥ 120,000',
        rate(loadDir) >= 120_000,
      ),
    );
    console.log(
      ratioLine('loader ev/s, S3 + Hive', Math.round(rate(load)), '≥ 100,000', rate(load) >= 100_000),
    );
    console.log(
      ratioLine(
        `peak RSS MB, one hour of ${hour.events} events`,
        Math.round(hour.maxRssMb),
        '< 512',
        hour.maxRssMb < 512,
      ),
    );
    console.log(
      ratioLine(
        'loader bytes after compaction ÷ best COPY',
        Number(((d.compactedBytes ?? 0) / best).toFixed(3)),
        '≤ 1.05',
        (d.compactedBytes ?? 0) / best <= 1.05,
      ),
    );
    console.log(
      ratioLine(
        'rollups share of the S3 + Hive run',
        Number(rollupShare.toFixed(3)),
        '≤ 0.10',
        rollupShare <= 0.1,
      ),
    );
    if (spark) {
      const e = spark.extra;
      console.log(
        `  Spark: session start ${e.sessionSeconds.toFixed(1)} s, then the query ${spark.seconds.toFixed(1)} s (the rate above; ${e.totalSeconds.toFixed(1)} s in all), ${spark.cpuSeconds.toFixed(1)} CPU s, ${e.files} files, ${(e.bytes / spark.events).toFixed(1)} B/event (${SPARK_COLUMNS} columns, no dedup, rollups or catalog)`,
      );
      for (const [name, p] of [
        ['dir store + DuckDB catalog', loadDir],
        ['S3 + Hive', load],
      ] as const) {
        const ratio = rate(p) / rate(spark);
        console.log(ratioLine(`loader ÷ Spark, ${name}`, Number(ratio.toFixed(2)), '≥ 3', ratio >= 3));
      }
    } else console.log('  (loader ÷ Spark: run with --spark)');
    const cpuOf = (p: Phase) => (p.cpuSeconds ?? 0).toFixed(1);
    console.log(
      `\nraw archive: ${x.archivedObjects} objects, ${((x.archivedBytes ?? 0) / 1e6).toFixed(1)} MB (${((x.archivedBytes ?? 0) / load.events).toFixed(1)} B/event); load with it ${load.seconds.toFixed(1)} s, ${cpuOf(load)} CPU s, ${load.maxRssMb.toFixed(0)} MB peak RSS; without ${loadNoArchive.seconds.toFixed(1)} s, ${cpuOf(loadNoArchive)} CPU s, ${loadNoArchive.maxRssMb.toFixed(0)} MB; ratio ${(load.seconds / loadNoArchive.seconds).toFixed(2)} wall, ${((load.cpuSeconds ?? 0) / (loadNoArchive.cpuSeconds ?? 1)).toFixed(2)} CPU`,
    );
  } finally {
    const ports = await openRealPorts(readStackEnv());
    await cleanupRealHarness(ports, testSettings(id));
    await cleanupRealHarness(ports, testSettings(`${id}_u`));
    await cleanupRealHarness(ports, testSettings(`${id}_n`));
    await ports.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
