/**
 * @module What every query builder is given: the engine's dialect, the table
 * names (from config, validated as identifiers) and whether the rollups may
 * answer. A built query carries its statement, where it reads from, and how
 * to turn the engine's rows into the endpoint's answer.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { WarehouseTableNames } from '../../shared/warehouse.ts';
import type { Dialect } from '../dialect/dialect.ts';
import type { Statement } from '../sql/statement.ts';

/** The catalog names of the events table and the rollups (config `tables`). */
export type WarehouseTables = WarehouseTableNames;

export interface QueryContext {
  dialect: Dialect;
  tables: WarehouseTables;
  /** False answers everything from the raw events (benchmarks compare both). */
  rollups: boolean;
}

/** `rollup` when only rollup tables (the *_hourly ones) are read. */
export type QuerySource = 'rollup' | 'raw';

export interface BuiltQuery<T> {
  statement: Statement;
  source: QuerySource;
  read(rows: Row[]): T;
  /**
   * For a rollup that can tell from its own rows that it cannot answer (hours
   * written before its columns existed): when `needed(rows)`, the runner asks
   * `query()` (raw events) instead and answers with that.
   */
  fallback?: { needed(rows: Row[]): boolean; query(): BuiltQuery<T> };
}
