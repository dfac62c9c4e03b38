/**
 * @module The one suite every Catalog adapter passes (`runCatalogContract`):
 * the same Parquet files, written by DuckDB as the loader writes them, must
 * give the same rows through Hive and through embedded DuckDB, with bound
 * parameters that survive hostile strings, idempotent partition adds, an
 * atomic location swap, late files, and TIMESTAMP as the same UTC instant.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` strings here are hostile inputs for HiveServer2's variable substitution, not templates
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogError } from '../errors.ts';
import type { ObjectStore } from '../object-store/object-store.ts';
import type { Catalog, ColumnDef, PartitionSpec, Row } from './catalog.ts';
import { duckdbString } from './duckdb/duckdb-views.ts';

export interface CatalogFixture {
  catalog: Catalog;
  /** Where the suite writes its Parquet files; the catalog must be able to read its locations. */
  store: ObjectStore;
  /** Key prefix in `store` and table-name prefix unique to this run (lower-case letters, digits, _). */
  runId: string;
  /** Drops the suite's tables and deletes its files. */
  cleanup(tables: string[]): Promise<void>;
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

interface ContractRow {
  project_id: string | null;
  label: string | null;
  amount: bigint | null;
  small_int: number | null;
  score: number | null;
  flag: boolean | null;
  /** UTC wall clock with micros, as the row format prints it. */
  event_time: string | null;
}

const HOUR_09 = { dt: '2026-11-25', hour: '09' };
const HOUR_10 = { dt: '2026-11-25', hour: '10' };
const HOUR_11 = { dt: '2026-11-25', hour: '11' };
const BIG = 9_007_199_254_740_993n; // 2^53 + 1: not a double

/** hour 09: one row per hostile string, plus a row of NULLs and a big BIGINT. */
function hour09Rows(): ContractRow[] {
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

function simpleRows(n: number, hour: string, project: string): ContractRow[] {
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
async function parquetBytes(rows: ContractRow[]): Promise<Uint8Array> {
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

async function expectCatalogError(promise: Promise<unknown>, code?: string): Promise<CatalogError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogError);
  if (code) expect((error as CatalogError).code).toBe(code);
  return error as CatalogError;
}

export function runCatalogContract(name: string, factory: () => Promise<CatalogFixture>): void {
  describe(`Catalog contract: ${name}`, () => {
    let fixture: CatalogFixture;
    let catalog: Catalog;
    let store: ObjectStore;
    let table: string;
    let base: string;
    const partition = (values: Record<string, string>, dir: string): PartitionSpec => ({
      values,
      location: store.location(`${base}/${dir}/dt=${values.dt}/hour=${values.hour}`),
    });
    const count = async (sql: string, params: (string | number | Date | null)[] = []) => {
      const rows = await catalog.query(sql, params);
      expect(rows).toHaveLength(1);
      return rows[0]!.n;
    };

    beforeAll(async () => {
      fixture = await factory();
      catalog = fixture.catalog;
      store = fixture.store;
      table = `${fixture.runId}_t`;
      base = `contract-${fixture.runId}`;
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
    });
    afterAll(async () => {
      await fixture?.cleanup([table]);
    });

    it('creates the table idempotently; it starts with no partitions', async () => {
      const def = {
        name: table,
        columns: CONTRACT_COLUMNS,
        partitionedBy: ['dt', 'hour'],
        location: store.location(`${base}/t`),
      };
      await catalog.ensureTable(def);
      await catalog.ensureTable(def);
      expect(await catalog.listPartitions(table)).toEqual([]);
    });

    it('adds partitions idempotently and lists them in order', async () => {
      const parts = [partition(HOUR_10, 't'), partition(HOUR_09, 't')];
      await catalog.addPartitions(table, parts);
      await catalog.addPartitions(table, parts);
      expect(await catalog.listPartitions(table)).toEqual([HOUR_09, HOUR_10]);
    });

    it('counts per partition, pruning by bound dt and hour, skipping hidden files', async () => {
      const total = hour09Rows().length + 3;
      expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(total);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '10']),
      ).toBe(3);
      const perHour = await catalog.query(
        `SELECT dt, hour, count(*) AS n FROM ${table} GROUP BY dt, hour ORDER BY dt, hour`,
      );
      expect(perHour).toEqual([
        { dt: '2026-11-25', hour: '09', n: hour09Rows().length },
        { dt: '2026-11-25', hour: '10', n: 3 },
      ]);
    });

    it('binds hostile strings as data: each matches exactly its own row', async () => {
      // One statement binding every string (a round trip to Hive costs a second or more):
      // each row must come back with its own amount, so no literal swallowed its neighbour.
      const placeholders = HOSTILE_STRINGS.map(() => '?').join(', ');
      const rows = await catalog.query(
        `SELECT label, amount FROM ${table} WHERE dt = ? AND label IN (${placeholders}) ORDER BY amount`,
        ['2026-11-25', ...HOSTILE_STRINGS],
      );
      expect(rows).toEqual(HOSTILE_STRINGS.map((label, i) => ({ label, amount: i * 10 })));
      // And alone, where a broken literal would have nothing after it to hide in.
      for (const label of [HOSTILE_STRINGS[1]!, HOSTILE_STRINGS[3]!, HOSTILE_STRINGS[6]!]) {
        expect(await catalog.query(`SELECT amount FROM ${table} WHERE label = ?`, [label])).toEqual([
          { amount: HOSTILE_STRINGS.indexOf(label) * 10 },
        ]);
      }
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE label = ?`, ["' OR '1'='1"])).toBe(0);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE label = ? OR label = ?`, ['${env:HOME}', null]),
      ).toBe(1);
    });

    it('returns every type in the common row format', async () => {
      const rows = await catalog.query(
        `SELECT project_id, label, amount, small_int, score, flag, event_time, extra, dt, hour
         FROM ${table} WHERE project_id IN (?, ?) ORDER BY project_id`,
        ['p-big', 'p-null'],
      );
      expect(rows).toEqual([
        {
          project_id: 'p-big',
          label: 'big',
          amount: Number(BIG), // beyond 2^53 a number is not exact: the documented reason to CAST AS STRING
          small_int: 2_147_483_647,
          score: -1.5e300,
          flag: false,
          event_time: '2026-11-25 09:59:59.999999',
          extra: null,
          dt: '2026-11-25',
          hour: '09',
        },
        {
          project_id: 'p-null',
          label: null,
          amount: null,
          small_int: null,
          score: null,
          flag: null,
          event_time: null,
          extra: null,
          dt: '2026-11-25',
          hour: '09',
        },
      ] satisfies Row[]);
      const exact = await catalog.query(
        `SELECT CAST(amount AS STRING) AS amount FROM ${table} WHERE label = ?`,
        ['big'],
      );
      expect(exact).toEqual([{ amount: String(BIG) }]);
    });

    it('reads TIMESTAMP as the UTC instant written, and compares it with a bound Date', async () => {
      const rows = await catalog.query(`SELECT event_time FROM ${table} WHERE label = ?`, ["O'Reilly"]);
      expect(rows).toEqual([{ event_time: '2026-11-25 09:00:30.123456' }]);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE event_time >= ? AND dt = ? AND hour = ?`, [
          new Date('2026-11-25T09:14:00.000Z'),
          '2026-11-25',
          '09',
        ]),
      ).toBe(2); // 09:14:30 (the 15th string) and 09:59:59
    });

    it('writes TIMESTAMP as INT64 micros that an independent reader (hyparquet) reads as the same instant', async () => {
      const bytes = await store.get(`${base}/t/dt=${HOUR_09.dt}/hour=09/part-0.parquet`);
      const file = new Uint8Array(bytes!).buffer;
      const column = parquetMetadata(file).schema.find((element) => element.name === 'event_time');
      expect(column?.type).toBe('INT64');
      // The flag engines disagree on: false (a UTC wall clock) is what Hive (JVM in UTC) and DuckDB read exactly.
      expect(column?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' });
      const rows = await parquetReadObjects({ file, compressors, columns: ['label', 'event_time'] });
      const oreilly = rows.find((row) => row.label === "O'Reilly");
      expect(oreilly?.event_time).toEqual(new Date('2026-11-25T09:00:30.123Z')); // millisecond Dates: micros dropped
    });

    it('answers aliased aggregates with numbers', async () => {
      const [row] = await catalog.query(
        `SELECT sum(small_int) AS total, count(DISTINCT project_id) AS projects, max(score) AS top,
                sum(CASE WHEN flag THEN 1 ELSE 0 END) AS flagged
         FROM ${table} WHERE dt = ? AND hour = ? AND project_id <> ?`,
        ['2026-11-25', '09', 'p-big'],
      );
      const rows = hour09Rows().filter((r) => r.project_id !== 'p-big');
      expect(row).toEqual({
        total: rows.reduce((sum, r) => sum + (r.small_int ?? 0), 0),
        projects: new Set(rows.map((r) => r.project_id)).size,
        top: Math.max(...rows.map((r) => r.score ?? Number.NEGATIVE_INFINITY)),
        flagged: rows.filter((r) => r.flag === true).length,
      });
    });

    it('sees a late file once its partition is added again', async () => {
      await store.put(
        `${base}/t/dt=${HOUR_10.dt}/hour=10/part-late.parquet`,
        await parquetBytes(simpleRows(4, '10', 'p-late')),
      );
      await catalog.addPartitions(table, [partition(HOUR_10, 't')]);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '10']),
      ).toBe(7);
    });

    it('swaps a partition to a new location, and adds one that did not exist', async () => {
      await catalog.setPartitionLocation(table, partition(HOUR_09, 'replay'));
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '09']),
      ).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE project_id = ?`, ['p-r'])).toBe(2);
      await store.put(
        `${base}/t/dt=${HOUR_11.dt}/hour=11/part-0.parquet`,
        await parquetBytes(simpleRows(1, '11', 'p-11')),
      );
      await catalog.setPartitionLocation(table, partition(HOUR_11, 't'));
      expect(await catalog.listPartitions(table)).toEqual([HOUR_09, HOUR_10, HOUR_11]);
      expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(2 + 7 + 1);
    });

    it('refuses bad input with CatalogErrors', async () => {
      await expectCatalogError(
        catalog.query(`SELECT count(*) AS n FROM ${table} WHERE label = ?`, []),
        'invalid_parameter',
      );
      await expectCatalogError(catalog.query('SELECT ? AS x', [Number.NaN]), 'invalid_parameter');
      await expectCatalogError(catalog.query(`SELECT nope FROM ${table}_missing`));
      await expectCatalogError(
        catalog.addPartitions(table, [{ values: { dt: '2026-11-25' }, location: 'x' }]),
      );
      await expectCatalogError(
        catalog.addPartitions(table, [
          { values: { dt: "2026'", hour: '00' }, location: store.location(`${base}/x`) },
        ]),
      );
      await expectCatalogError(
        catalog.ensureTable({
          name: 'bad-name',
          columns: CONTRACT_COLUMNS,
          partitionedBy: [],
          location: 'x',
        }),
      );
    });

    it('cancels a query whose signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      await expectCatalogError(
        catalog.query(`SELECT count(*) AS n FROM ${table}`, [], { signal: controller.signal }),
        'cancelled',
      );
    });
  });
}
