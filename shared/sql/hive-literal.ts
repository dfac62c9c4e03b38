/**
 * @module SQL literals for HiveQL, for HiveServer2 cannot bind parameters:
 * `bindHiveParams(sql, params)` replaces each `?` placeholder with the literal
 * of its value. Escaping follows Hive's own reader of string literals
 * (BaseSemanticAnalyzer.unescapeSQLString), not MySQL's: `sqlstring` writes
 * NUL as `\0`, which Hive reads as an octal escape when digits follow, so it
 * was not used. The rules, each tested against a port of Hive's reader:
 *  - strings are single-quoted; `\` and `'` get a backslash; NUL is written
 *    `\000` (three octal digits, so following digits stay digits); newline,
 *    CR and tab as `\n`, `\r`, `\t`;
 *  - every `{` is written `\{`, so no parameter can form `${…}`: HiveServer2
 *    substitutes `${env:…}`, `${system:…}` and `${hiveconf:…}` in the whole
 *    statement text, string literals included, before parsing;
 *  - strings must be well-formed UTF-16 (no lone surrogates, which would
 *    silently become U+FFFD on the wire);
 *  - numbers must be finite; negative ones are parenthesised so `x-?` cannot
 *    become the comment `x--1`;
 *  - a Date becomes `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.fff'` in UTC, the zone
 *    every timestamp of the warehouse is in (HiveServer2 runs with UTC);
 *  - null is NULL, booleans TRUE / FALSE.
 */
import type { SqlValue } from '../catalog/query-engine.ts';
import { CatalogError } from '../errors.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function hiveLiteral(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'string':
      return hiveStringLiteral(value);
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'number':
      if (!Number.isFinite(value)) throw invalidParameter(`the number ${value} is not finite`);
      return value < 0 ? `(${String(value)})` : String(value);
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw invalidParameter(`${value} does not fit a BIGINT`);
      return value < 0n ? `(${value})` : String(value);
    default:
      if (value instanceof Date) return hiveTimestampLiteral(value);
      throw invalidParameter(`values of type ${typeof value} cannot be bound`);
  }
}

export function hiveStringLiteral(value: string): string {
  if (!value.isWellFormed()) throw invalidParameter('the string has a lone UTF-16 surrogate');
  let out = "'";
  for (const char of value) {
    switch (char) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '{':
        out += '\\{';
        break;
      case '\0':
        out += '\\000';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default:
        out += char;
    }
  }
  return `${out}'`;
}

function hiveTimestampLiteral(value: Date): string {
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw invalidParameter('the Date is invalid');
  const iso = value.toISOString();
  // Years outside 0001-9999 print as ±YYYYYY, which no engine reads back.
  if (!/^\d{4}-/.test(iso) || iso.startsWith('0000'))
    throw invalidParameter(`the Date ${iso} is out of range`);
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

/**
 * Replaces each `?` outside string literals, quoted identifiers and comments
 * with the literal of the next parameter; the count must match exactly.
 */
export function bindHiveParams(sql: string, params: readonly SqlValue[] = []): string {
  const positions = placeholderPositions(sql);
  if (positions.length !== params.length) {
    throw invalidParameter(
      `the query has ${positions.length} placeholders but ${params.length} parameters were given`,
    );
  }
  if (positions.length === 0) return sql;
  let out = '';
  let from = 0;
  positions.forEach((at, i) => {
    out += sql.slice(from, at) + hiveLiteral(params[i] as SqlValue);
    from = at + 1;
  });
  return out + sql.slice(from);
}

/** Offsets of `?` placeholders, skipping '…' and "…" literals (backslash escapes), `…` identifiers and comments. */
export function placeholderPositions(sql: string): number[] {
  const positions: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      i = skipQuoted(sql, i, c);
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end === -1) throw invalidParameter('the query has an unterminated quoted identifier');
      i = end + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw invalidParameter('the query has an unterminated comment');
      i = end + 2;
    } else {
      if (c === '?') positions.push(i);
      i++;
    }
  }
  return positions;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\') i++;
    else if (sql[i] === quote) return i + 1;
  }
  throw invalidParameter('the query has an unterminated string literal');
}

function invalidParameter(problem: string): CatalogError {
  return new CatalogError(`Cannot bind query parameters: ${problem}`, {
    code: 'invalid_parameter',
    status: 400,
  });
}
