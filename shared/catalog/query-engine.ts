/**
 * @module The query-engine port: parameterised SQL over the tables a
 * metastore registered (metastore.ts). HiveServer2 in production, embedded
 * DuckDB over the same Parquet files in one-machine mode; both answer in one
 * row format (row-format.ts), so insights gets identical answers from both.
 */

export type SqlValue = string | number | bigint | boolean | Date | null;
export type Row = Record<string, unknown>;

export interface QueryOptions {
  /** The query is cancelled when the signal aborts (client went away, timeout). */
  signal?: AbortSignal;
}

export interface QueryEngine {
  /**
   * Runs SQL with `?` placeholders bound to `params` (escaped for engines that
   * cannot bind). Identifiers are never parameters; callers whitelist them.
   */
  query(sql: string, params?: SqlValue[], options?: QueryOptions): Promise<Row[]>;
  close(): Promise<void>;
}
