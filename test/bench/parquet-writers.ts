/**
 * @module Benchmark: which Parquet writer the loader uses. Each candidate
 * writes the same seeded enriched events (mapped to `events` rows) to one
 * file, in its own child process so peak RSS is its own; the parent then
 * reads every file back with DuckDB and checks types and values.
 *
 *   npm run bench:parquet                 # 1,000,000 events
 *   npm run bench:parquet -- --count 100000 --only duckdb-appender,hyparquet-writer
 *
 * Over 300 lines: a benchmark: one candidate writer a function, all checked
 * and reported alike.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { zstdCompressSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { syntheticEvents } from '../../loader/fixtures/synthetic-events.ts';
import { type EventRow, toEventRow } from '../../loader/steps/map-event.ts';
import { EVENTS_COLUMNS } from '../../shared/warehouse.ts';

const ROW_GROUP = 100_000;
const START_MS = Date.UTC(2026, 10, 25, 9, 0, 0);

interface BenchWriter {
  write(rows: EventRow[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The writers are compared on the string and timestamp columns, which are all the events table had
 * when they were chosen; the loader's DuckDB writes the other types (is_bot) as declared.
 */
const BENCH_COLUMNS = EVENTS_COLUMNS.filter((c) => c.type === 'STRING' || c.type === 'TIMESTAMP');
const TS = new Set(BENCH_COLUMNS.filter((c) => c.type === 'TIMESTAMP').map((c) => c.name));
const NAMES = BENCH_COLUMNS.map((c) => c.name as keyof EventRow);

function column(rows: EventRow[], name: keyof EventRow): (string | number | null)[] {
  return rows.map((r) => r[name] as string | number | null);
}

const require = createRequire(import.meta.url);

/** The part of the (untyped) parquetjs API the bench uses. */
interface ParquetjsModule {
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      path: string,
      options: { rowGroupSize: number },
    ): Promise<{ appendRow(row: Record<string, unknown>): Promise<void>; close(): Promise<void> }>;
  };
}

/**
 * parquetjs-lite and its fork @dsnp/parquetjs share one API, a row at a time; the fork takes a
 * TIMESTAMP_MICROS value as a bigint.
 */
function parquetjsWriter(load: () => ParquetjsModule, timestamp: (micros: number) => unknown) {
  return async (file: string): Promise<BenchWriter> => {
    const parquet = load();
    const fields = Object.fromEntries(
      BENCH_COLUMNS.map((c) => [
        c.name,
        { type: c.type === 'TIMESTAMP' ? 'TIMESTAMP_MICROS' : 'UTF8', optional: true, compression: 'GZIP' },
      ]),
    );
    const writer = await parquet.ParquetWriter.openFile(new parquet.ParquetSchema(fields), file, {
      rowGroupSize: ROW_GROUP,
    });
    return {
      async write(rows) {
        for (const r of rows) {
          const row: Record<string, unknown> = {};
          for (const n of NAMES) if (r[n] !== null) row[n] = TS.has(n) ? timestamp(r[n] as number) : r[n];
          await writer.appendRow(row);
        }
      },
      close: () => writer.close(),
    };
  };
}

const WRITERS: Record<string, { note: string; open(file: string): Promise<BenchWriter> }> = {
  'duckdb-appender': {
    note: '@duckdb/node-api appender (data chunks) into a temp table, COPY TO parquet zstd',
    async open(file) {
      const { DuckDBDataChunk, TIMESTAMP, VARCHAR, DuckDBTimestampValue } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const ddl = BENCH_COLUMNS.map((c) => `${c.name} ${c.type === 'TIMESTAMP' ? 'TIMESTAMP' : 'VARCHAR'}`);
      await conn.run(`CREATE TABLE t (${ddl.join(', ')})`);
      const appender = await conn.createAppender('t');
      const types = BENCH_COLUMNS.map((c) => (c.type === 'TIMESTAMP' ? TIMESTAMP : VARCHAR));
      return {
        async write(rows) {
          for (let start = 0; start < rows.length; start += 2048) {
            const slice = rows.slice(start, start + 2048);
            const chunk = DuckDBDataChunk.create(types, slice.length);
            chunk.setColumns(
              NAMES.map((n) =>
                TS.has(n)
                  ? slice.map((r) =>
                      r[n] === null ? null : new DuckDBTimestampValue(BigInt(r[n] as number)),
                    )
                  : slice.map((r) => r[n] as string | null),
              ),
            );
            appender.appendDataChunk(chunk);
          }
        },
        async close() {
          appender.closeSync();
          await conn.run(
            `COPY t TO '${file}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP})`,
          );
          conn.closeSync();
          db.closeSync();
        },
      };
    },
  },
  'duckdb-ndjson': {
    note: 'NDJSON temp file (JSON.stringify), DuckDB read_json with declared columns, COPY TO parquet zstd',
    async open(file) {
      const ndjson = `${file}.ndjson`;
      const out = createWriteStream(ndjson);
      return {
        async write(rows) {
          let text = '';
          for (const r of rows) text += `${JSON.stringify(r)}\n`;
          if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        },
        async close() {
          out.end();
          await finished(out);
          const db = await DuckDBInstance.create(':memory:');
          const conn = await db.connect();
          // Timestamps travel as µs numbers: make_timestamp(µs) is exact; ISO parsing is not needed.
          const cols = BENCH_COLUMNS.map(
            (c) => `${c.name}: '${c.type === 'TIMESTAMP' ? 'BIGINT' : 'VARCHAR'}'`,
          );
          const select = BENCH_COLUMNS.map((c) =>
            c.type === 'TIMESTAMP' ? `make_timestamp(${c.name}) AS ${c.name}` : c.name,
          );
          await conn.run(
            `COPY (SELECT ${select.join(', ')} FROM read_json('${ndjson}', format = 'newline_delimited', columns = {${cols.join(', ')}}))
             TO '${file}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP})`,
          );
          conn.closeSync();
          db.closeSync();
          await rm(ndjson);
        },
      };
    },
  },
  'hyparquet-writer': {
    note: 'hyparquet-writer ParquetWriter, explicit schema (TIMESTAMP MICROS, isAdjustedToUTC=false), zstd from node:zlib',
    async open(file) {
      const { ParquetWriter } = await import('hyparquet-writer');
      const { fileWriter } = await import('hyparquet-writer/src/node.js');
      const writer = new ParquetWriter({
        writer: fileWriter(file),
        codec: 'ZSTD',
        compressors: { ZSTD: (input: Uint8Array) => new Uint8Array(zstdCompressSync(input)) },
        schema: [
          { name: 'root', num_children: BENCH_COLUMNS.length },
          ...BENCH_COLUMNS.map((c) =>
            c.type === 'TIMESTAMP'
              ? {
                  name: c.name,
                  type: 'INT64' as const,
                  repetition_type: 'OPTIONAL' as const,
                  logical_type: {
                    type: 'TIMESTAMP' as const,
                    isAdjustedToUTC: false,
                    unit: 'MICROS' as const,
                  },
                }
              : {
                  name: c.name,
                  type: 'BYTE_ARRAY' as const,
                  converted_type: 'UTF8' as const,
                  repetition_type: 'OPTIONAL' as const,
                },
          ),
        ],
      });
      return {
        async write(rows) {
          await writer.write({
            rowGroupSize: ROW_GROUP,
            columnData: NAMES.map((n) => ({
              name: n,
              data: TS.has(n)
                ? rows.map((r) => (r[n] === null ? null : BigInt(r[n] as number)))
                : column(rows, n),
            })),
          });
        },
        async close() {
          await writer.finish();
        },
      };
    },
  },
  'parquetjs-lite': {
    note: 'parquetjs-lite appendRow, TIMESTAMP_MICROS (converted type: read as adjusted to UTC), gzip (no zstd)',
    open: parquetjsWriter(
      () => require('parquetjs-lite'),
      (micros) => micros,
    ),
  },
  '@dsnp/parquetjs': {
    note: '@dsnp/parquetjs appendRow, TIMESTAMP_MICROS (converted type), gzip (no zstd)',
    open: parquetjsWriter(
      () => require('@dsnp/parquetjs'),
      (micros) => BigInt(micros),
    ),
  },
  'parquet-wasm': {
    note: 'apache-arrow record batches (Timestamp µs, no zone = isAdjustedToUTC=false) → parquet-wasm writeParquet, zstd',
    async open(file) {
      const arrow = await import('apache-arrow');
      const pw = await import('parquet-wasm');
      const { writeFile } = await import('node:fs/promises');
      const fields = BENCH_COLUMNS.map(
        (c) =>
          new arrow.Field(
            c.name,
            c.type === 'TIMESTAMP' ? new arrow.TimestampMicrosecond() : new arrow.Utf8(),
            true,
          ),
      );
      const schema = new arrow.Schema(fields);
      // parquet-wasm writes a whole table at once: batches are kept as Arrow (columnar, compact) until close.
      const batches: InstanceType<typeof arrow.RecordBatch>[] = [];
      return {
        async write(rows) {
          const data: Record<string, unknown> = {};
          for (const n of NAMES) {
            data[n] = TS.has(n)
              ? arrow.vectorFromArray(
                  // Arrow's JS setter takes ms and multiplies by 1000 itself.
                  rows.map((r) => (r[n] === null ? null : (r[n] as number) / 1000)),
                  new arrow.TimestampMicrosecond(),
                )
              : arrow.vectorFromArray(column(rows, n), new arrow.Utf8());
          }
          const table = new arrow.Table(schema, data as never);
          batches.push(...table.batches);
        },
        async close() {
          const table = new arrow.Table(batches);
          const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
          const props = new pw.WriterPropertiesBuilder()
            .setCompression(pw.Compression.ZSTD)
            .setMaxRowGroupSize(ROW_GROUP)
            .build();
          await writeFile(file, pw.writeParquet(wasmTable, props));
        },
      };
    },
  },
};

interface ChildResult {
  writer: string;
  rows: number;
  writeSeconds: number;
  generateSeconds: number;
  maxRssMb: number;
}

async function runChild(name: string, file: string, count: number): Promise<ChildResult> {
  const spec = name === 'baseline' ? undefined : WRITERS[name];
  const writer = spec ? await spec.open(file) : undefined;
  let generateMs = 0;
  let writeMs = 0;
  let batch: EventRow[] = [];
  let t = performance.now();
  const flush = async () => {
    generateMs += performance.now() - t;
    t = performance.now();
    await writer?.write(batch);
    batch = [];
    writeMs += performance.now() - t;
    t = performance.now();
  };
  for (const e of syntheticEvents(count, { seed: 42, startMs: START_MS, spanMs: 3 * 3_600_000 })) {
    batch.push(toEventRow(e, START_MS));
    if (batch.length === ROW_GROUP) await flush();
  }
  if (batch.length > 0) await flush();
  generateMs += performance.now() - t;
  t = performance.now();
  await writer?.close();
  writeMs += performance.now() - t;
  return {
    writer: name,
    rows: count,
    writeSeconds: writeMs / 1000,
    generateSeconds: generateMs / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

interface ReadBack {
  /** How the file declares received_at: physical type, unit and isAdjustedToUTC. */
  timestamp: string;
  typesOk: boolean;
  valuesOk: boolean;
  detail: string;
}

/** DuckDB reads the file: every column with the intended type, and the first row's instants exact. */
async function readBack(file: string, count: number): Promise<ReadBack> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const described = (
      await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)
    ).getRowObjects();
    const types = Object.fromEntries(described.map((r) => [String(r.column_name), String(r.column_type)]));
    const wrong = BENCH_COLUMNS.filter(
      (c) => types[c.name] !== (c.type === 'TIMESTAMP' ? 'TIMESTAMP' : 'VARCHAR'),
    );
    const first = syntheticEvents(1, { seed: 42, startMs: START_MS, spanMs: 3 * 3_600_000 }).next().value;
    const expected = first ? toEventRow(first, START_MS) : undefined;
    const got = (
      await conn.runAndReadAll(
        `SELECT count(*)::BIGINT AS n,
                (SELECT epoch_us(received_at::TIMESTAMP) FROM read_parquet('${file}') WHERE message_id = $id) AS received_us,
                (SELECT page_title FROM read_parquet('${file}') WHERE message_id = $id) AS title
         FROM read_parquet('${file}')`,
        { id: expected?.message_id ?? '' },
      )
    ).getRowObjects()[0];
    const schema = (
      await conn.runAndReadAll(
        `SELECT type, converted_type, logical_type FROM parquet_schema('${file}') WHERE name = 'received_at'`,
      )
    ).getRowObjects()[0];
    const logical = String(schema?.logical_type ?? '');
    const utc = /isAdjustedToUTC=(\w+)/.exec(logical)?.[1];
    const unit = /(MILLIS|MICROS|NANOS)=[A-Z]/i.exec(logical)?.[1] ?? String(schema?.converted_type ?? '');
    const timestamp = `${schema?.type} ${unit} utc=${utc ?? `implied by ${schema?.converted_type}`}`;
    const valuesOk =
      Number(got?.n) === count &&
      Number(got?.received_us) === expected?.received_at &&
      (got?.title ?? null) === expected?.page_title;
    return {
      timestamp,
      typesOk: wrong.length === 0,
      valuesOk,
      detail: wrong.length ? wrong.map((c) => `${c.name}:${types[c.name]}`).join(' ') : '',
    };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      only: { type: 'string' },
      child: { type: 'string' },
      file: { type: 'string' },
    },
  });
  const count = Number(values.count);
  if (values.child) {
    const result = await runChild(values.child, values.file ?? '', count);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const names = values.only ? values.only.split(',') : Object.keys(WRITERS);
  const dir = await mkdtemp(join(tmpdir(), 'bench-parquet-'));
  const baseline = JSON.parse(
    execFileSync(process.execPath, [import.meta.filename, '--child', 'baseline', '--count', String(count)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    }),
  ) as ChildResult;
  console.log(
    `${count} events; generating + mapping alone: ${baseline.generateSeconds.toFixed(2)} s, peak RSS ${baseline.maxRssMb.toFixed(0)} MB`,
  );
  const rows: string[] = [];
  for (const name of names) {
    const file = join(dir, `${name.replace(/[^a-z0-9-]/gi, '_')}.parquet`);
    let result: ChildResult;
    try {
      result = JSON.parse(
        execFileSync(
          process.execPath,
          [import.meta.filename, '--child', name, '--file', file, '--count', String(count)],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        ),
      ) as ChildResult;
    } catch (err) {
      rows.push(`| ${name} | failed: ${(err as Error).message.split('\n')[0]?.slice(0, 80)} | | | | | |`);
      continue;
    }
    const bytes = (await stat(file)).size;
    const check = await readBack(file, count).catch(
      (err: unknown): ReadBack => ({
        timestamp: '?',
        typesOk: false,
        valuesOk: false,
        detail: String(err).slice(0, 120),
      }),
    );
    rows.push(
      `| ${name} | ${Math.round(count / result.writeSeconds).toLocaleString('en')} | ${(bytes / 1e6).toFixed(1)} | ${result.maxRssMb.toFixed(0)} | ${check.timestamp} | ${check.typesOk ? 'yes' : `no ${check.detail}`} | ${check.valuesOk ? 'yes' : 'no'} |`,
    );
    console.log(rows.at(-1));
  }
  console.log(
    `\n| writer | rows/s (write only) | MB | peak RSS MB | received_at as written | DuckDB types | values exact |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
  );
  for (const name of names) console.log(`- ${name}: ${WRITERS[name]?.note ?? ''}`);
  await rm(dir, { recursive: true, force: true });
}

await main();
