/**
 * @module What the metastore and query-engine contracts share: the fixture
 * each adapter's test provides, the table's columns and rows (hostile
 * strings, NULLs, a BIGINT past 2^53), and Parquet files written by DuckDB
 * as the loader writes them.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` strings here are hostile inputs for HiveServer2's variable substitution, not templates
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';
import { CatalogError } from '../errors.ts';
import type { ObjectStore } from '../object-store/object-store.ts';
import { duckdbString } from './duckdb/duckdb-views.ts';
import type { ColumnDef, Metastore } from './metastore.ts';
import type { QueryEngine } from './query-engine.ts';

export interface MetastoreFixture {
  metastore: Metastore;
  /** Where the suite writes its Parquet files; the adapter must accept (and read) its locations. */
  store: ObjectStore;
  /** Key prefix in `store` and table-name prefix unique to this run (lower-case letters, digits, _). */
  runId: string;
  /** Drops the suite's tables and deletes its files. */
  cleanup(tables: string[]): Promise<void>;
}

/** The query-engine contract reads what `metastore` registers: one adapter is usually both. */
export interface QueryEngineFixture extends MetastoreFixture {
  engine: QueryEngine;
}

/** Strings that break naive quoting, comment out the rest, or trigger HiveServer2 variable substitution. */
export const HOSTILE_STRINGS = [
  "O'Reilly",
  "'; DROP TABLE x; --",
  'back\\slash',
  "trailing backslash \\' still quoted",
  '-- not a comment',
  '/* not a comment */',
  '${env:HOME}',
  '${system:user.name}',
  '日本語 ñ 🎉',
  'a "quoted" `word`',
  'semi;colon',
  'two\nlines\ttab',
  '100%_like\\%',
  '\\012 octal-looking',
  '',
];

export const CONTRACT_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'label', type: 'STRING' },
  { name: 'amount', type: 'BIGINT' },
  { name: 'small_int', type: 'INT' },
  { name: 'score', type: 'DOUBLE' },
  { name: 'flag', type: 'BOOLEAN' },
  { name: 'event_time', type: 'TIMESTAMP' },
  /** Declared but in no file: reads as NULL on every engine. */
  { name: 'extra', type: 'STRING' },
];

export interface ContractRow {
  project_id: string | null;
  label: string | null;
  amount: bigint | null;
  small_int: number | null;
  score: number | null;
  flag: boolean | null;
  /** UTC wall clock with micros, as the row format prints it. */
  event_time: string | null;
}

export const HOUR_09 = { dt: '2026-11-25', hour: '09' };
export const HOUR_10 = { dt: '2026-11-25', hour: '10' };
export const HOUR_11 = { dt: '2026-11-25', hour: '11' };
export const BIG = 9_007_199_254_740_993n; // 2^53 + 1: not a double

/** hour 09: one row per hostile string, plus a row of NULLs and a big BIGINT. */
export function hour09Rows(): ContractRow[] {
  const rows: ContractRow[] = HOSTILE_STRINGS.map((label, i) => ({
    project_id: i % 2 === 0 ? 'p-even' : 'p-odd',
    label,
    amount: BigInt(i * 10),
    small_int: -i,
    score: i + 0.25,
    flag: i % 3 === 0,
    event_time: `2026-11-25 09:${String(i).padStart(2, '0')}:30.123456`,
  }));
  rows.push({
    project_id: 'p-null',
    label: null,
    amount: null,
    small_int: null,
    score: null,
    flag: null,
    event_time: null,
  });
  rows.push({
    project_id: 'p-big',
    label: 'big',
    amount: BIG,
    small_int: 2_147_483_647,
    score: -1.5e300,
    flag: false,
    event_time: '2026-11-25 09:59:59.999999',
  });
  return rows;
}

export function simpleRows(n: number, hour: string, project: string): ContractRow[] {
  return Array.from({ length: n }, (_, i) => ({
    project_id: project,
    label: `${project}-${i}`,
    amount: BigInt(i),
    small_int: i,
    score: i / 2,
    flag: true,
    event_time: `2026-11-25 ${hour}:00:00.000000`,
  }));
}

/** Writes rows as the loader does: DuckDB COPY to Parquet (TIMESTAMP as INT64 micros, zstd). */
export async function parquetBytes(rows: ContractRow[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-contract-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const literal = (v: unknown) =>
      v === null ? 'NULL' : typeof v === 'string' ? duckdbString(v) : String(v);
    const values = rows
      .map(
        (r) =>
          `(${literal(r.project_id)}, ${literal(r.label)}, ${literal(r.amount)}, ${literal(r.small_int)}, ${literal(
            r.score,
          )}, ${literal(r.flag)}, ${literal(r.event_time)})`,
      )
      .join(',\n');
    const file = join(dir, 'part.parquet');
    await connection.run(
      `COPY (SELECT project_id::VARCHAR AS project_id, label::VARCHAR AS label, amount::BIGINT AS amount,
                    small_int::INTEGER AS small_int, score::DOUBLE AS score, flag::BOOLEAN AS flag,
                    event_time::TIMESTAMP AS event_time
             FROM (VALUES ${values}) AS t(project_id, label, amount, small_int, score, flag, event_time))
       TO ${duckdbString(file)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return await readFile(file);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function expectCatalogError(promise: Promise<unknown>, code?: string): Promise<CatalogError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogError);
  if (code) expect((error as CatalogError).code).toBe(code);
  return error as CatalogError;
}

/** The suite's files under `base`: two hours of `t`, a hidden file, and a replay of hour 09. */
export async function writeContractFiles(store: ObjectStore, base: string): Promise<void> {
  await store.put(`${base}/t/dt=${HOUR_09.dt}/hour=09/part-0.parquet`, await parquetBytes(hour09Rows()));
  await store.put(
    `${base}/t/dt=${HOUR_10.dt}/hour=10/part-0.parquet`,
    await parquetBytes(simpleRows(3, '10', 'p-ten')),
  );
  // A hidden file, as an in-flight upload would leave: no engine reads it.
  await store.put(
    `${base}/t/dt=${HOUR_10.dt}/hour=10/_tmp.parquet`,
    await parquetBytes(simpleRows(100, '10', 'p-x')),
  );
  await store.put(
    `${base}/replay/dt=${HOUR_09.dt}/hour=09/part-0.parquet`,
    await parquetBytes(simpleRows(2, '09', 'p-r')),
  );
}
