/**
 * @module The catalog + query port: HiveServer2 in production, embedded DuckDB
 * over the same Parquet layout in one-machine mode. Both see the same tables,
 * partitioned by (dt, hour), whose partitions point at object-store locations.
 */

export type ColumnType = 'STRING' | 'BIGINT' | 'INT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

export interface ColumnDef {
  name: string;
  type: ColumnType;
}

export interface TableDef {
  name: string;
  columns: ColumnDef[];
  /** Partition columns, always STRING, e.g. ['dt', 'hour']. */
  partitionedBy: string[];
  /** Where the table's data lives (an object-store location). */
  location: string;
}

export interface PartitionSpec {
  /** Values in the order of `partitionedBy`, e.g. { dt: '2026-11-25', hour: '09' }. */
  values: Record<string, string>;
  location: string;
}

export type SqlValue = string | number | bigint | boolean | Date | null;
export type Row = Record<string, unknown>;

export interface QueryOptions {
  /** The query is cancelled when the signal aborts (client went away, timeout). */
  signal?: AbortSignal;
}

export interface Catalog {
  /** Creates the external table when missing (CREATE … IF NOT EXISTS). */
  ensureTable(table: TableDef): Promise<void>;
  /** Idempotent: ADD IF NOT EXISTS. */
  addPartitions(table: string, partitions: PartitionSpec[]): Promise<void>;
  /** Points an existing partition (or a new one) at a new location in one statement: replays swap this way. */
  setPartitionLocation(table: string, partition: PartitionSpec): Promise<void>;
  listPartitions(table: string): Promise<PartitionSpec['values'][]>;
  /**
   * Runs SQL with `?` placeholders bound to `params` (escaped for engines that
   * cannot bind). Identifiers are never parameters; callers whitelist them.
   */
  query(sql: string, params?: SqlValue[], options?: QueryOptions): Promise<Row[]>;
  close(): Promise<void>;
}
