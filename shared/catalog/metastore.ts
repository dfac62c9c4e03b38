/**
 * @module The metastore port: what the loader needs to register what it
 * wrote. Tables partitioned by (dt, hour) whose partitions point at
 * object-store locations; HiveServer2's metastore in production, the
 * embedded DuckDB catalog's JSON metadata in one-machine mode. Reading the
 * tables back is the query-engine port's job (query-engine.ts): the loader
 * never queries, insights never registers.
 */

import type { StoreLocation } from '../object-store/object-store.ts';

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
  /** Where the table's data lives; each adapter renders it in its engine's terms. */
  location: StoreLocation;
}

export interface PartitionSpec {
  /** Values in the order of `partitionedBy`, e.g. { dt: '2026-11-25', hour: '09' }. */
  values: Record<string, string>;
  location: StoreLocation;
}

export interface Metastore {
  /**
   * Creates the external table when missing (CREATE … IF NOT EXISTS), and
   * adds the columns of `table` that an existing one lacks (schema evolution:
   * ALTER TABLE … ADD COLUMNS; files written before read them as NULL).
   * Never drops or retypes a column.
   */
  ensureTable(table: TableDef): Promise<void>;
  /** Idempotent: ADD IF NOT EXISTS. */
  addPartitions(table: string, partitions: PartitionSpec[]): Promise<void>;
  /** Points an existing partition (or a new one) at a new location in one statement: replays swap this way. */
  setPartitionLocation(table: string, partition: PartitionSpec): Promise<void>;
  listPartitions(table: string): Promise<PartitionSpec['values'][]>;
  close(): Promise<void>;
}
