/**
 * @module Benchmark: the loader on the real stack (Kafka → Parquet on S3,
 * registered in HiveServer2), against its two ceilings on the same events:
 * only consuming the range from Kafka (the read ceiling) and DuckDB turning
 * the same rows from NDJSON into Parquet (the write ceiling). Each phase
 * runs in its own child process, so its peak RSS and CPU seconds are its own.
 * The load also runs with `archive: false`, so the raw archive's cost is a
 * ratio measured in the same run.
 *
 *   npm run bench:loader                   # 1,000,000 events
 *   npm run bench:loader -- --count 100000
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loaderHarness, testSettings, uniqueId } from '../../loader/fixtures/loader-harness.ts';
import { cleanupRealHarness, openRealPorts } from '../../loader/fixtures/real-ports.ts';
import { syntheticEvents } from '../../loader/fixtures/synthetic-events.ts';
import { openLoaderDuckDb } from '../../loader/parquet/loader-duckdb.ts';
import { runOnce } from '../../loader/run-once.ts';
import { toEventRow } from '../../loader/steps/map-event.ts';
import { readStackEnv } from '../infra/stack-env.ts';

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

function eventsFor(count: number) {
  // Spread over the last three hours (Kafka refuses timestamps far ahead of its clock).
  const startMs = (Math.floor(Date.now() / 3_600_000) - 3) * 3_600_000;
  return syntheticEvents(count, { seed: 99, startMs, spanMs: 3 * 3_600_000 });
}

function rss(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function child(phase: string, id: string, count: number, dir: string): Promise<Phase> {
  const env = readStackEnv();
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
    const t = performance.now();
    const rows = await duckdb.eventsToParquet(ndjson, join(dir, 'out.parquet'));
    const seconds = (performance.now() - t) / 1000;
    duckdb.close();
    return {
      phase,
      events: rows,
      seconds,
      maxRssMb: rss(),
      extra: { bytes: (await stat(join(dir, 'out.parquet'))).size },
    };
  }
  const ports = await openRealPorts(env);
  try {
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
      const t = performance.now();
      let n = 0;
      for (const m of await ports.bus.watermarks(h.deps.settings.topic)) {
        for await (const b of ports.bus.read(h.deps.settings.topic, m.partition, m.low, m.high))
          n += b.length;
      }
      return { phase, events: n, seconds: (performance.now() - t) / 1000, maxRssMb: rss() };
    }
    const t = performance.now();
    const result = await runOnce({ ...h.deps, logger: pino({ level: 'warn' }) });
    const seconds = (performance.now() - t) / 1000;
    let indexBytes = 0;
    for await (const o of ports.store.list(`${h.deps.settings.warehousePrefix}_loader/dedup/`))
      indexBytes += o.size;
    const cpu = process.cpuUsage();
    return {
      phase,
      events: result.events,
      seconds,
      maxRssMb: rss(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      extra: {
        archivedBytes: result.archived?.bytes ?? 0,
        archivedObjects: result.archived?.objects ?? 0,
        files: result.files,
        bytes: result.bytes,
        indexBytes,
        duplicates: result.duplicates,
        ...result.steps,
      },
    };
  } finally {
    await ports.close();
  }
}

function runChild(phase: string, id: string, count: number, dir: string): Phase {
  const out = execFileSync(
    process.execPath,
    [import.meta.filename, '--child', phase, '--id', id, '--count', String(count), '--dir', dir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Phase;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      child: { type: 'string' },
      id: { type: 'string' },
      dir: { type: 'string' },
    },
  });
  const count = Number(values.count);
  if (values.child) {
    const result = await child(values.child, values.id ?? '', count, values.dir ?? tmpdir());
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const id = uniqueId('bench');
  const dir = await mkdtemp(join(tmpdir(), 'bench-loader-'));
  const rate = (p: Phase) => p.events / p.seconds;
  try {
    const produce = runChild('produce', id, count, dir);
    console.log(
      `produced ${produce.events} events in ${produce.seconds.toFixed(1)} s (${Math.round(rate(produce))}/s)`,
    );
    const consume = runChild('consume', id, count, dir);
    const duckdb = runChild('duckdb', id, count, dir);
    const loadNoArchive = runChild('load-no-archive', id, count, dir);
    const load = runChild('load', id, count, dir);
    const loadUnsorted = runChild('load-unsorted', id, count, dir);
    const line = (name: string, p: Phase) =>
      `| ${name} | ${p.events.toLocaleString('en')} | ${p.seconds.toFixed(1)} | ${Math.round(rate(p)).toLocaleString('en')} | ${(rate(load) / rate(p)).toFixed(2)} | ${p.maxRssMb.toFixed(0)} |`;
    console.log(
      `\n| phase | events | s | events/s | loader ÷ this | peak RSS MB |\n|---|---|---|---|---|---|`,
    );
    console.log(line('loader: Kafka → Parquet on S3, registered in Hive, rollups, commit', load));
    console.log(line('loader without the raw archive (archive: false)', loadNoArchive));
    console.log(line('loader, files not sorted by project (sortEvents: false)', loadUnsorted));
    console.log(line('read ceiling: consume the same range from Kafka', consume));
    console.log(line('write ceiling: DuckDB NDJSON → Parquet (zstd, sorted)', duckdb));
    const x = load.extra ?? {};
    console.log(
      `loader steps (s): ${['plan', 'consume', 'upload', 'register', 'rollups', 'commit'].map((k) => `${k} ${x[k] ?? '-'}`).join(', ')}`,
    );
    console.log(
      `\nloader wrote ${x.files} files, ${((x.bytes ?? 0) / 1e6).toFixed(1)} MB Parquet (${((x.bytes ?? 0) / load.events).toFixed(0)} B/event); dedup index ${((x.indexBytes ?? 0) / 1e6).toFixed(2)} MB (${((x.indexBytes ?? 0) / load.events).toFixed(2)} B/event, ${((((x.indexBytes ?? 0) / load.events) * 1e6) / 1e6).toFixed(1)} MB per million events)`,
    );
    const cpu = (p: Phase) => (p.cpuSeconds ?? 0).toFixed(1);
    console.log(
      `\nraw archive: ${x.archivedObjects} objects, ${((x.archivedBytes ?? 0) / 1e6).toFixed(1)} MB (${((x.archivedBytes ?? 0) / load.events).toFixed(1)} B/event); load with it ${load.seconds.toFixed(1)} s, ${cpu(load)} CPU s, ${load.maxRssMb.toFixed(0)} MB peak RSS; without ${loadNoArchive.seconds.toFixed(1)} s, ${cpu(loadNoArchive)} CPU s, ${loadNoArchive.maxRssMb.toFixed(0)} MB; ratio ${(load.seconds / loadNoArchive.seconds).toFixed(2)} wall, ${((load.cpuSeconds ?? 0) / (loadNoArchive.cpuSeconds ?? 1)).toFixed(2)} CPU`,
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
