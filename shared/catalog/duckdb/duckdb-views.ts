/**
 * @module The SQL DuckDB answers a table with: the declared columns, typed as
 * declared, over every partition file in the read farm, with the partition
 * columns taken from the farm paths (hive_partitioning) so filters on dt/hour
 * skip files unopened. A declared column that no file has yet reads as NULL,
 * as Hive does. A view reads the files at each query; a materialized table
 * (the catalog's `materializedTables`, duckdb-materialized.ts) copies the
 * rows of a partition's files once each time the partition changes.
 */
import { duckdbIdentifier } from '../../sql/identifier.ts';
import type { ColumnType } from '../metastore.ts';
import type { StoredTable } from './duckdb-metadata.ts';

const DUCKDB_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  BIGINT: 'BIGINT',
  INT: 'INTEGER',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
};

/** A DuckDB string literal (standard SQL: quotes doubled, backslashes plain). */
export function duckdbString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Files that share one Parquet schema, and that schema (column name → DuckDB type). */
export interface SchemaGroup {
  files: readonly string[];
  available: ReadonlyMap<string, string>;
}

/**
 * The table function reading `files`, which share one schema; partition
 * columns are always VARCHAR, never guessed as dates or numbers. Without
 * `union_by_name`, DuckDB binds the files from the first one's schema instead
 * of reading every footer at each query (200–370 ms over 2,000 files).
 */
function parquetSource(table: StoredTable, files: readonly string[]): string {
  const hiveTypes = table.partitionedBy.map((column) => `${duckdbString(column)}: VARCHAR`).join(', ');
  return `read_parquet([${files.map(duckdbString).join(', ')}], hive_partitioning = true, hive_types = {${hiveTypes}})`;
}

/** The declared columns of `table`, typed as declared, then its partition columns, over one schema group. */
function groupSelect(table: StoredTable, group: SchemaGroup | null): string {
  const columns = table.columns.map((column) => {
    const id = duckdbIdentifier(column.name);
    const type = DUCKDB_TYPES[column.type as ColumnType];
    const fileType = group?.available.get(column.name);
    if (fileType === undefined) return `CAST(NULL AS ${type}) AS ${id}`;
    // TIMESTAMP WITH TIME ZONE (files written with isAdjustedToUTC=true) casts to
    // the UTC wall clock because the session's TimeZone is UTC.
    return fileType === type ? id : `CAST(${id} AS ${type}) AS ${id}`;
  });
  const partitions = table.partitionedBy.map((column) =>
    group === null ? `CAST(NULL AS VARCHAR) AS ${duckdbIdentifier(column)}` : duckdbIdentifier(column),
  );
  const select = `SELECT ${[...columns, ...partitions].join(', ')}`;
  return group === null ? `${select} WHERE false` : `${select} FROM ${parquetSource(table, group.files)}`;
}

/**
 * The SELECT of every row of `table`: one branch per schema group (files
 * written before a column was added form their own), so a declared column
 * that no file has yet reads as NULL, as Hive does. With no files it is empty
 * but typed, so queries still bind.
 */
export function tableSelect(table: StoredTable, groups: readonly SchemaGroup[]): string {
  if (groups.length === 0) return groupSelect(table, null);
  return groups.map((group) => groupSelect(table, group)).join(' UNION ALL ');
}

/** CREATE OR REPLACE VIEW for `table` over its files, grouped by schema. */
export function viewSql(table: StoredTable, groups: readonly SchemaGroup[]): string {
  return `CREATE OR REPLACE VIEW ${duckdbIdentifier(table.name)} AS ${tableSelect(table, groups)}`;
}

/** The columns a materialized copy of `table` is stored in order of: its first column (a rollup's project_id), then the partitions. */
export function storageOrder(table: StoredTable): string {
  return [table.columns[0]?.name, ...table.partitionedBy]
    .filter((c): c is string => c !== undefined)
    .map(duckdbIdentifier)
    .join(', ');
}
