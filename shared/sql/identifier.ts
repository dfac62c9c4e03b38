/**
 * @module SQL identifiers (tables, columns, partition keys). They are never
 * parameters, so they are checked against one narrow pattern that every engine
 * we target (Hive, Spark, DuckDB, Trino) accepts unquoted, then quoted anyway
 * so reserved words (`date`, `hour`, `dec`) are safe.
 */
import { CatalogError } from '../errors.ts';

/** Lower-case, like Hive's metastore stores names; at most 128 characters. */
const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,127}$/;

export function assertIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER_PATTERN.test(name)) {
    throw new CatalogError(`Invalid ${what} ${JSON.stringify(name)}: use lower-case letters, digits and _`, {
      code: 'invalid_identifier',
      status: 400,
    });
  }
  return name;
}

/** `name` for HiveQL (and Spark SQL). */
export function hiveIdentifier(name: string): string {
  return `\`${assertIdentifier(name)}\``;
}

/** "name" for DuckDB (standard SQL). */
export function duckdbIdentifier(name: string): string {
  return `"${assertIdentifier(name)}"`;
}
