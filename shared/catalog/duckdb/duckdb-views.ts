/**
 * @module The SQL of the view DuckDB answers a table with: the declared
 * columns, typed as declared, over every partition file in the read farm,
 * with the partition columns taken from the farm paths (hive_partitioning)
 * so filters on dt/hour skip files unopened. A declared column that no file
 * has yet reads as NULL, as Hive does.
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

/** The table function reading `files`; partition columns are always VARCHAR, never guessed as dates or numbers. */
export function parquetSource(table: StoredTable, files: readonly string[]): string {
  const hiveTypes = table.partitionedBy.map((column) => `${duckdbString(column)}: VARCHAR`).join(', ');
  return `read_parquet([${files.map(duckdbString).join(', ')}], hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true)`;
}

/**
 * CREATE OR REPLACE VIEW for `table`. `available` maps the columns the files
 * have to their DuckDB types (from DESCRIBE of parquetSource); with no files
 * the view is empty but typed, so queries still bind.
 */
export function viewSql(
  table: StoredTable,
  files: readonly string[],
  available: ReadonlyMap<string, string>,
): string {
  const name = duckdbIdentifier(table.name);
  const columns = table.columns.map((column) => {
    const id = duckdbIdentifier(column.name);
    const type = DUCKDB_TYPES[column.type as ColumnType];
    const fileType = available.get(column.name);
    if (files.length === 0 || fileType === undefined) return `CAST(NULL AS ${type}) AS ${id}`;
    // TIMESTAMP WITH TIME ZONE (files written with isAdjustedToUTC=true) casts to
    // the UTC wall clock because the session's TimeZone is UTC.
    return fileType === type ? id : `CAST(${id} AS ${type}) AS ${id}`;
  });
  const partitions = table.partitionedBy.map((column) =>
    files.length === 0 ? `CAST(NULL AS VARCHAR) AS ${duckdbIdentifier(column)}` : duckdbIdentifier(column),
  );
  const select = [...columns, ...partitions].join(', ');
  if (files.length === 0) return `CREATE OR REPLACE VIEW ${name} AS SELECT ${select} WHERE false`;
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${select} FROM ${parquetSource(table, files)}`;
}
