/**
 * @module What differs between the engines behind the QueryEngine port, and only
 * that: JSON extraction and timestamp arithmetic. Every query is otherwise
 * written once in the SQL both HiveQL and DuckDB accept; partitions are
 * bucketed by their `dt`/`hour` strings, so no date function is needed.
 */
import type { Statement } from '../sql/statement.ts';

export type EngineName = 'hive' | 'duckdb';

export interface Dialect {
  readonly engine: EngineName;
  /**
   * The value at `path` (`$.key` or `$.a.b`, validated by the caller) of a
   * column holding JSON text, as a string: strings unquoted, numbers and
   * booleans as written. NULL when the key is absent or the text is not JSON.
   * The path is a bound parameter.
   */
  jsonString(json: Statement, path: string): Statement;
  /** Whole seconds since the epoch of a TIMESTAMP holding a UTC instant (fraction dropped). */
  epochSeconds(timestamp: Statement): Statement;
}
