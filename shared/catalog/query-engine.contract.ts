/**
 * @module The suite every QueryEngine adapter passes (`runQueryEngineContract`):
 * the same Parquet files, written by DuckDB as the loader writes them and
 * registered through the fixture's metastore, must give the same rows through
 * Hive and through embedded DuckDB, with bound parameters that survive hostile
 * strings, late files seen once re-added, a swapped location read whole, and
 * TIMESTAMP as the same UTC instant.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` strings here are hostile inputs for HiveServer2's variable substitution, not templates
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../object-store/object-store.ts';
import {
  BIG,
  CONTRACT_COLUMNS,
  expectCatalogError,
  HOSTILE_STRINGS,
  HOUR_09,
  HOUR_10,
  HOUR_11,
  hour09Rows,
  parquetBytes,
  type QueryEngineFixture,
  simpleRows,
  writeContractFiles,
} from './contract-fixture.ts';
import type { Metastore, PartitionSpec } from './metastore.ts';
import type { QueryEngine, Row } from './query-engine.ts';

export function runQueryEngineContract(name: string, factory: () => Promise<QueryEngineFixture>): void {
  describe(`QueryEngine contract: ${name}`, () => {
    let fixture: QueryEngineFixture;
    let engine: QueryEngine;
    let metastore: Metastore;
    let store: ObjectStore;
    let table: string;
    let base: string;
    const partition = (values: Record<string, string>, dir: string): PartitionSpec => ({
      values,
      location: store.location(`${base}/${dir}/dt=${values.dt}/hour=${values.hour}`),
    });
    const count = async (sql: string, params: (string | number | Date | null)[] = []) => {
      const rows = await engine.query(sql, params);
      expect(rows).toHaveLength(1);
      return rows[0]!.n;
    };

    beforeAll(async () => {
      fixture = await factory();
      engine = fixture.engine;
      metastore = fixture.metastore;
      store = fixture.store;
      table = `${fixture.runId}_t`;
      base = `contract-${fixture.runId}`;
      await writeContractFiles(store, base);
      await metastore.ensureTable({
        name: table,
        columns: CONTRACT_COLUMNS,
        partitionedBy: ['dt', 'hour'],
        location: store.location(`${base}/t`),
      });
      await metastore.addPartitions(table, [partition(HOUR_10, 't'), partition(HOUR_09, 't')]);
    });
    afterAll(async () => {
      await fixture?.cleanup([table]);
    });

    it('counts per partition, pruning by bound dt and hour, skipping hidden files', async () => {
      const total = hour09Rows().length + 3;
      expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(total);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '10']),
      ).toBe(3);
      const perHour = await engine.query(
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
      const rows = await engine.query(
        `SELECT label, amount FROM ${table} WHERE dt = ? AND label IN (${placeholders}) ORDER BY amount`,
        ['2026-11-25', ...HOSTILE_STRINGS],
      );
      expect(rows).toEqual(HOSTILE_STRINGS.map((label, i) => ({ label, amount: i * 10 })));
      // And alone, where a broken literal would have nothing after it to hide in.
      for (const label of [HOSTILE_STRINGS[1]!, HOSTILE_STRINGS[3]!, HOSTILE_STRINGS[6]!]) {
        expect(await engine.query(`SELECT amount FROM ${table} WHERE label = ?`, [label])).toEqual([
          { amount: HOSTILE_STRINGS.indexOf(label) * 10 },
        ]);
      }
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE label = ?`, ["' OR '1'='1"])).toBe(0);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE label = ? OR label = ?`, ['${env:HOME}', null]),
      ).toBe(1);
    });

    it('returns every type in the common row format', async () => {
      const rows = await engine.query(
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
      const exact = await engine.query(
        `SELECT CAST(amount AS STRING) AS amount FROM ${table} WHERE label = ?`,
        ['big'],
      );
      expect(exact).toEqual([{ amount: String(BIG) }]);
    });

    it('reads TIMESTAMP as the UTC instant written, and compares it with a bound Date', async () => {
      const rows = await engine.query(`SELECT event_time FROM ${table} WHERE label = ?`, ["O'Reilly"]);
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
      const [row] = await engine.query(
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
      await metastore.addPartitions(table, [partition(HOUR_10, 't')]);
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '10']),
      ).toBe(7);
    });

    it('swaps a partition to a new location, and adds one that did not exist', async () => {
      await metastore.setPartitionLocation(table, partition(HOUR_09, 'replay'));
      expect(
        await count(`SELECT count(*) AS n FROM ${table} WHERE dt = ? AND hour = ?`, ['2026-11-25', '09']),
      ).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE project_id = ?`, ['p-r'])).toBe(2);
      await store.put(
        `${base}/t/dt=${HOUR_11.dt}/hour=11/part-0.parquet`,
        await parquetBytes(simpleRows(1, '11', 'p-11')),
      );
      await metastore.setPartitionLocation(table, partition(HOUR_11, 't'));
      expect(await metastore.listPartitions(table)).toEqual([HOUR_09, HOUR_10, HOUR_11]);
      expect(await count(`SELECT count(*) AS n FROM ${table}`)).toBe(2 + 7 + 1);
    });

    it('refuses bad input with CatalogErrors', async () => {
      await expectCatalogError(
        engine.query(`SELECT count(*) AS n FROM ${table} WHERE label = ?`, []),
        'invalid_parameter',
      );
      await expectCatalogError(engine.query('SELECT ? AS x', [Number.NaN]), 'invalid_parameter');
      await expectCatalogError(engine.query(`SELECT nope FROM ${table}_missing`));
    });

    it('cancels a query whose signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      await expectCatalogError(
        engine.query(`SELECT count(*) AS n FROM ${table}`, [], { signal: controller.signal }),
        'cancelled',
      );
    });
  });
}
