/**
 * @module Checks of table definitions and partition specs shared by every
 * catalog adapter, so Hive and DuckDB refuse the same inputs. Partition values
 * become path segments and SQL text, so they are held to a narrow pattern
 * (dates, hours, ids) instead of being escaped.
 */
import { isAbsolute } from 'node:path';
import { CatalogError } from '../errors.ts';
import type { StoreLocation } from '../object-store/object-store.ts';
import { assertIdentifier } from '../sql/identifier.ts';
import type { ColumnType, PartitionSpec, TableDef } from './metastore.ts';

export const COLUMN_TYPES: readonly ColumnType[] = [
  'STRING',
  'BIGINT',
  'INT',
  'DOUBLE',
  'BOOLEAN',
  'TIMESTAMP',
];

/** Letters, digits and `_ - . :`, up to 64: every value the warehouse uses (2026-11-25, 09). */
const PARTITION_VALUE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function assertTableDef(table: TableDef): void {
  assertIdentifier(table.name, 'table name');
  if (table.columns.length === 0) throw invalid(`Table ${table.name} has no columns`);
  const seen = new Set<string>();
  for (const column of [...table.columns.map((c) => c.name), ...table.partitionedBy]) {
    assertIdentifier(column, `column name in ${table.name}`);
    if (seen.has(column)) throw invalid(`Table ${table.name} names column ${column} twice`);
    seen.add(column);
  }
  for (const column of table.columns) {
    if (!COLUMN_TYPES.includes(column.type))
      throw invalid(`Column ${column.name} has unknown type ${column.type}`);
  }
  assertLocation(table.location);
}

/** The partition's values in `partitionedBy` order; throws unless the keys match exactly and each value is plain. */
export function partitionValues(partitionedBy: readonly string[], spec: PartitionSpec['values']): string[] {
  const keys = Object.keys(spec);
  if (keys.length !== partitionedBy.length || !partitionedBy.every((k) => Object.hasOwn(spec, k))) {
    throw invalid(`Partition ${JSON.stringify(spec)} must name exactly ${partitionedBy.join(', ')}`);
  }
  return partitionedBy.map((key) => {
    const value = spec[key] as string;
    if (typeof value !== 'string' || !PARTITION_VALUE_PATTERN.test(value)) {
      throw invalid(`Partition value ${key}=${JSON.stringify(value)} must match ${PARTITION_VALUE_PATTERN}`);
    }
    return value;
  });
}

/** `dt=2026-11-25/hour=09`: Hive's name for a partition, also our map key. */
export function partitionName(partitionedBy: readonly string[], spec: PartitionSpec['values']): string {
  const values = partitionValues(partitionedBy, spec);
  return partitionedBy.map((key, i) => `${key}=${values[i]}`).join('/');
}

/** Parses `dt=2026-11-25/hour=09` (as SHOW PARTITIONS prints it, %-escaped) back into values. */
export function parsePartitionName(name: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const part of name.split('/')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new CatalogError(`Unreadable partition name ${JSON.stringify(name)}`, { code: 'bad_response' });
    values[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
  }
  return values;
}

/**
 * Locations end up inside SQL string literals and file paths: no quotes,
 * backslashes or control characters in any part, and a directory's path absolute.
 */
export function assertLocation(location: StoreLocation): void {
  const parts = location.kind === 's3' ? [location.bucket, location.key] : [location.path];
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  if (
    (location.kind === 's3' ? location.bucket.length === 0 : !isAbsolute(location.path)) ||
    length > 2048 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
    parts.some((part) => /['"\\\u0000-\u001f\u007f]/.test(part))
  ) {
    throw invalid(
      `Location ${JSON.stringify(location)} is empty, too long, relative, or has quotes or control characters`,
    );
  }
}

function invalid(message: string): CatalogError {
  return new CatalogError(message, { code: 'invalid_definition', status: 400 });
}
