/**
 * @module Reading engine rows into plain numbers and strings. The engines
 * disagree on shapes (DuckDB gives BIGINT as bigint and may type partition
 * values as DATE or integers; Hive gives numbers and strings, and may prefix
 * column names with a table alias), so every value the endpoints return goes
 * through here.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';

function field(row: Row, name: string): unknown {
  if (name in row) return row[name];
  const suffix = `.${name}`;
  for (const key of Object.keys(row)) if (key.endsWith(suffix)) return row[key];
  return undefined;
}

/** A count or sum: integers only, NULL (SUM over nothing) as 0. */
export function countOf(row: Row, name: string): number {
  const value = field(row, name);
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'bigint' ? Number(value) : Number(String(value));
  if (!Number.isSafeInteger(n)) throw new Error(`column ${name}: expected an integer, got ${String(value)}`);
  return n;
}

export function stringOf(row: Row, name: string): string | null {
  const value = field(row, name);
  if (value === null || value === undefined) return null;
  return String(value);
}

/** A `dt` partition value as YYYY-MM-DD, whatever type the engine gave it. */
export function dayOf(row: Row, name: string): string {
  const value = field(row, name);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  const text = String(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) throw new Error(`column ${name}: expected a date, got ${text}`);
  return text.slice(0, 10);
}

/** An `hour` partition value as HH. */
export function hourOf(row: Row, name: string): string {
  const text = String(field(row, name));
  if (!/^\d{1,2}$/.test(text)) throw new Error(`column ${name}: expected an hour, got ${text}`);
  return text.padStart(2, '0');
}
