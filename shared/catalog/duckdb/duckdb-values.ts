/**
 * @module Values across the DuckDB boundary: query parameters bound with
 * DuckDB's own prepared statements (never pasted into SQL), and result values
 * turned into the common row format of row-format.ts.
 */
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  type DuckDBPreparedStatement,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBValue,
  timestampValue,
} from '@duckdb/node-api';
import { CatalogError } from '../../errors.ts';
import type { SqlValue } from '../query-engine.ts';
import { bigintToNumber, formatDateDays, formatTimestampMicros } from '../row-format.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Binds `params` to the statement's `?` placeholders in order (DuckDB numbers them from 1). */
export function bindParams(prepared: DuckDBPreparedStatement, params: readonly SqlValue[]): void {
  if (prepared.parameterCount !== params.length) {
    throw invalidParameter(
      `the query has ${prepared.parameterCount} placeholders but ${params.length} parameters were given`,
    );
  }
  params.forEach((value, i) => {
    const index = i + 1;
    if (value === null || value === undefined) {
      prepared.bindNull(index);
    } else if (typeof value === 'string') {
      // The same refusal as the Hive literal writer, so both engines accept the same inputs.
      if (!value.isWellFormed()) throw invalidParameter('the string has a lone UTF-16 surrogate');
      prepared.bindVarchar(index, value);
    } else if (typeof value === 'boolean') {
      prepared.bindBoolean(index, value);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalidParameter(`the number ${value} is not finite`);
      // Integers as BIGINT, like Hive reads an integer literal; others as DOUBLE.
      if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
      else prepared.bindDouble(index, value);
    } else if (typeof value === 'bigint') {
      if (value < INT64_MIN || value > INT64_MAX) throw invalidParameter(`${value} does not fit a BIGINT`);
      prepared.bindBigInt(index, value);
    } else if (value instanceof Date) {
      const ms = value.getTime();
      if (Number.isNaN(ms)) throw invalidParameter('the Date is invalid');
      prepared.bindTimestamp(index, timestampValue(BigInt(ms) * 1000n));
    } else {
      throw invalidParameter(`values of type ${typeof value} cannot be bound`);
    }
  });
}

/** One DuckDB result value in the common row format. */
export function toRowValue(value: DuckDBValue, typeId: DuckDBTypeId): unknown {
  if (value === null) return null;
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return typeof value === 'bigint' ? bigintToNumber(value) : value;
    case DuckDBTypeId.DECIMAL:
      return value instanceof DuckDBDecimalValue ? value.toDouble() : value;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      if (
        (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) &&
        value.isFinite
      ) {
        return formatTimestampMicros(value.micros);
      }
      return String(value);
    case DuckDBTypeId.TIMESTAMP_S:
      return value instanceof DuckDBTimestampSecondsValue
        ? formatTimestampMicros(value.seconds * 1_000_000n)
        : String(value);
    case DuckDBTypeId.TIMESTAMP_MS:
      return value instanceof DuckDBTimestampMillisecondsValue
        ? formatTimestampMicros(value.millis * 1000n)
        : String(value);
    case DuckDBTypeId.TIMESTAMP_NS:
      return value instanceof DuckDBTimestampNanosecondsValue
        ? formatTimestampMicros(value.nanos / 1000n)
        : String(value);
    case DuckDBTypeId.DATE:
      return value instanceof DuckDBDateValue && value.isFinite ? formatDateDays(value.days) : String(value);
    default:
      // Strings, booleans and the small numbers are plain JS already; nested types print as DuckDB writes them.
      return typeof value === 'object' ? String(value) : value;
  }
}

function invalidParameter(problem: string): CatalogError {
  return new CatalogError(`Cannot bind query parameters: ${problem}`, {
    code: 'invalid_parameter',
    status: 400,
  });
}
