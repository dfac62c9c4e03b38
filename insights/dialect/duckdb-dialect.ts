/**
 * @module DuckDB, reading the same Parquet files. Its JSON functions raise on
 * text that is not JSON where Hive answers NULL, hence the json_valid guard.
 */
import { type Statement, sql } from '../sql/statement.ts';
import type { Dialect } from './dialect.ts';

export const duckdbDialect: Dialect = {
  engine: 'duckdb',
  jsonString: (json: Statement, path: string) =>
    sql`CASE WHEN json_valid(${json}) THEN json_extract_string(${json}, ${path}) END`,
  // epoch_ms is exact on TIMESTAMP and TIMESTAMPTZ alike; integer division truncates like unix_timestamp.
  epochSeconds: (timestamp: Statement) => sql`(epoch_ms(${timestamp}) // 1000)`,
};
