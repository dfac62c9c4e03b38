/**
 * @module The catalog's materialized tables (the rollups insights reads):
 * DuckDB tables in the database file attached as `materialized`
 * (duckdb-engine.ts), refreshed one partition at a time. A refresh deletes the
 * changed partitions' rows and inserts their files' rows in one transaction,
 * so a query (its own snapshot, on another connection) sees the table before
 * or after, never between, and costs the partitions that changed, not the
 * table. Beside the tables, the file records which revision and location of
 * each partition it holds, so a restart over the same catalog refreshes only
 * what changed since (`reconcile`). The file lives on disk under DuckDB's
 * memory_limit: the buffer pool holds what queries touch, not the tables.
 *
 * Main's view of the same name (`SELECT * FROM materialized.<table>`) is
 * what queries name, so a query reads a materialized table and a view over
 * files alike.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbIdentifier } from '../../sql/identifier.ts';
import { parsePartitionName } from '../partition-spec.ts';
import type { StoredTable } from './duckdb-metadata.ts';
import { duckdbString, type SchemaGroup, storageOrder, tableSelect } from './duckdb-views.ts';

/** Bump when the bookkeeping's shape changes: a file of another format is started afresh. */
const FORMAT = 1;
const DB = 'materialized';
/** In a schema of its own: no table name from a config can collide with it. */
const BOOKKEEPING = {
  schema: `${DB}.b2h_bookkeeping`,
  catalog: `${DB}.b2h_bookkeeping.catalog`,
  tables: `${DB}.b2h_bookkeeping.tables`,
  partitions: `${DB}.b2h_bookkeeping.partitions`,
};

/** What the file holds of a partition: the catalog's revision and location it was copied at. */
export interface HeldPartition {
  revision: number;
  location: string;
}

/** What the file holds of a table: the column list it was built with, and its partitions by name. */
export interface HeldTable {
  columns: string;
  partitions: Map<string, HeldPartition>;
}

/** One partition to (re)copy: its name and where the catalog has it now. */
export interface PartitionChange extends HeldPartition {
  name: string;
}

export interface RefreshPlan {
  /** Start the table afresh (new, or its columns changed): `changed` then holds every partition. */
  rebuild: boolean;
  /** Partitions whose rows are replaced by their files' rows (in `groups`). */
  changed: PartitionChange[];
  /** Names of partitions gone from the catalog: their rows go. */
  removed: string[];
  /** The changed partitions' files, grouped by Parquet schema. */
  groups: readonly SchemaGroup[];
}

/** Runs `commit` while no query runs (see `MaterializedTables`' constructor). */
export type CommitGate = (commit: () => Promise<unknown>) => Promise<unknown>;

export class MaterializedTables {
  private readonly admin: DuckDBConnection;
  private readonly gate: CommitGate;
  private identity: string | null = null;

  /**
   * `gate` keeps queries of materialized tables out while a transaction
   * commits: with DuckDB 1.5, a query that reads a file-backed table while a
   * transaction that deleted rows and inserted many in parallel commits can
   * see both the old rows and the new, or part of them (measured: about 1 query
   * in 50 run meanwhile; also when its own transaction began before the
   * commit; never with one thread, never with the whole query kept out).
   * Commits take milliseconds; the copy itself runs before, while queries
   * answer from the table as it was.
   */
  constructor(admin: DuckDBConnection, gate: CommitGate) {
    this.admin = admin;
    this.gate = gate;
  }

  /**
   * Makes the file hold `identity`'s catalog (the metadata's id and place):
   * a file of another catalog or format is emptied. Returns what the file
   * holds, or null when it was already reconciled with this identity.
   */
  async reconcile(identity: string): Promise<Map<string, HeldTable> | null> {
    if (this.identity === identity) return null;
    const run = (sql: string) => this.admin.run(sql);
    await run(`CREATE SCHEMA IF NOT EXISTS ${BOOKKEEPING.schema}`);
    await run(`CREATE TABLE IF NOT EXISTS ${BOOKKEEPING.catalog} (identity VARCHAR, format INTEGER)`);
    await run(`CREATE TABLE IF NOT EXISTS ${BOOKKEEPING.tables} (table_name VARCHAR, columns VARCHAR)`);
    await run(
      `CREATE TABLE IF NOT EXISTS ${BOOKKEEPING.partitions} (table_name VARCHAR, partition_name VARCHAR, revision BIGINT, location VARCHAR)`,
    );
    const held = (await this.rows(`SELECT identity, format FROM ${BOOKKEEPING.catalog}`))[0];
    if (held?.identity !== identity || held?.format !== FORMAT) {
      await this.transaction(async () => {
        for (const name of await this.dataTables()) {
          await run(`DROP VIEW IF EXISTS main.${duckdbIdentifier(name)}`);
          await run(`DROP TABLE ${DB}.${duckdbIdentifier(name)}`);
        }
        await run(`DELETE FROM ${BOOKKEEPING.catalog}`);
        await run(`DELETE FROM ${BOOKKEEPING.tables}`);
        await run(`DELETE FROM ${BOOKKEEPING.partitions}`);
        await run(`INSERT INTO ${BOOKKEEPING.catalog} VALUES (${duckdbString(identity)}, ${FORMAT})`);
      });
    }
    this.identity = identity;
    const tables = new Map<string, HeldTable>();
    for (const row of await this.rows(`SELECT table_name, columns FROM ${BOOKKEEPING.tables}`))
      tables.set(String(row.table_name), { columns: String(row.columns), partitions: new Map() });
    for (const row of await this.rows(
      `SELECT table_name, partition_name, revision, location FROM ${BOOKKEEPING.partitions}`,
    )) {
      tables.get(String(row.table_name))?.partitions.set(String(row.partition_name), {
        revision: Number(row.revision),
        location: String(row.location),
      });
    }
    return tables;
  }

  /** Applies `plan` to `table` in one transaction, then (re)points main's view at it. */
  async refresh(table: StoredTable, plan: RefreshPlan): Promise<void> {
    const target = `${DB}.${duckdbIdentifier(table.name)}`;
    const name = duckdbString(table.name);
    const run = (sql: string) => this.admin.run(sql);
    await this.transaction(async () => {
      if (plan.rebuild) {
        // Empty but typed: the declared columns, then the partition columns.
        await run(`CREATE OR REPLACE TABLE ${target} AS ${tableSelect(table, [])}`);
        await run(`DELETE FROM ${BOOKKEEPING.partitions} WHERE table_name = ${name}`);
        await run(`DELETE FROM ${BOOKKEEPING.tables} WHERE table_name = ${name}`);
        await run(
          `INSERT INTO ${BOOKKEEPING.tables} VALUES (${name}, ${duckdbString(JSON.stringify(table.columns))})`,
        );
      } else {
        const gone = [...plan.changed.map((p) => p.name), ...plan.removed];
        if (gone.length > 0) {
          await run(`DELETE FROM ${target} WHERE ${partitionsPredicate(table, gone)}`);
          await run(
            `DELETE FROM ${BOOKKEEPING.partitions} WHERE table_name = ${name} AND partition_name IN (${gone.map(duckdbString).join(', ')})`,
          );
        }
      }
      // Each batch sorted by project: a query for one project skips the other projects' row groups.
      if (plan.groups.length > 0)
        await run(
          `INSERT INTO ${target} SELECT * FROM (${tableSelect(table, plan.groups)}) t ORDER BY ${storageOrder(table)}`,
        );
      if (plan.changed.length > 0)
        await run(
          `INSERT INTO ${BOOKKEEPING.partitions} VALUES ${plan.changed
            .map(
              (p) =>
                `(${name}, ${duckdbString(p.name)}, ${Math.trunc(p.revision)}, ${duckdbString(p.location)})`,
            )
            .join(', ')}`,
        );
    });
    await run(`CREATE OR REPLACE VIEW main.${duckdbIdentifier(table.name)} AS SELECT * FROM ${target}`);
  }

  /** Forgets a table the catalog no longer has: its view, its rows, its bookkeeping. */
  async drop(table: string): Promise<void> {
    const name = duckdbString(table);
    await this.admin.run(`DROP VIEW IF EXISTS main.${duckdbIdentifier(table)}`);
    await this.transaction(async () => {
      await this.admin.run(`DROP TABLE IF EXISTS ${DB}.${duckdbIdentifier(table)}`);
      await this.admin.run(`DELETE FROM ${BOOKKEEPING.tables} WHERE table_name = ${name}`);
      await this.admin.run(`DELETE FROM ${BOOKKEEPING.partitions} WHERE table_name = ${name}`);
    });
  }

  /** Names of the materialized tables the file holds (bookkeeping aside). */
  private async dataTables(): Promise<string[]> {
    const rows = await this.rows(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = ${duckdbString(DB)} AND schema_name = 'main'`,
    );
    return rows.map((row) => String(row.table_name));
  }

  private async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.admin.runAndReadAll(sql)).getRowObjectsJS();
  }

  private async transaction(body: () => Promise<void>): Promise<void> {
    await this.admin.run('BEGIN TRANSACTION');
    try {
      await body();
      await this.gate(() => this.admin.run('COMMIT'));
    } catch (error) {
      await this.admin.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

/** Rows of any of the partitions named (`dt=…/hour=…`); their values are checked (partition-spec.ts), quoted anyway. */
function partitionsPredicate(table: StoredTable, names: string[]): string {
  return names
    .map((name) => {
      const values = parsePartitionName(name);
      const terms = table.partitionedBy.map(
        (key) => `${duckdbIdentifier(key)} = ${duckdbString(values[key] ?? '')}`,
      );
      return `(${terms.join(' AND ')})`;
    })
    .join(' OR ');
}
