/**
 * @module One SELECT on a DuckDB connection: prepared, parameters bound for
 * real, interrupted when the signal aborts, rows converted to the common
 * format, failures mapped to CatalogErrors (the caller's mistakes as 400s).
 */
import { type DuckDBConnection, StatementType } from '@duckdb/node-api';
import { CatalogError } from '../../errors.ts';
import type { Row, SqlValue } from '../query-engine.ts';
import { bindParams, toRowValue } from './duckdb-values.ts';

export interface QuerySignals {
  /** Aborts on the caller's signal or the deadline, whichever comes first. */
  signal: AbortSignal;
  /** The deadline alone, to tell a timeout from a cancellation. */
  timeout: AbortSignal;
}

export async function runSelect(
  connection: DuckDBConnection,
  sql: string,
  params: readonly SqlValue[],
  { signal, timeout }: QuerySignals,
): Promise<Row[]> {
  if (signal.aborted) throw aborted(timeout, signal.reason);
  const interrupt = () => connection.interrupt();
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    const prepared = await connection.prepare(sql);
    try {
      if (prepared.statementType !== StatementType.SELECT) {
        throw new CatalogError('Only SELECT statements can be run through query()', {
          code: 'invalid_query',
          status: 400,
        });
      }
      bindParams(prepared, params);
      const reader = await prepared.runAndReadAll();
      const names = reader.columnNames().map((n) => n.toLowerCase());
      const typeIds = reader.columnTypes().map((t) => t.typeId);
      return reader.getRows().map((values) => {
        const row: Row = {};
        values.forEach((value, i) => {
          row[names[i]!] = toRowValue(value, typeIds[i]!);
        });
        return row;
      });
    } finally {
      prepared.destroySync();
    }
  } catch (error) {
    if (signal.aborted) throw aborted(timeout, error);
    if (error instanceof CatalogError) throw error;
    throw duckdbError(error);
  } finally {
    signal.removeEventListener('abort', interrupt);
  }
}

function aborted(timeout: AbortSignal, cause: unknown): CatalogError {
  if (timeout.aborted) {
    return new CatalogError('The DuckDB query timed out and was cancelled', {
      code: 'timeout',
      status: 504,
      cause,
    });
  }
  return new CatalogError('The DuckDB query was cancelled', { code: 'cancelled', status: 499, cause });
}

/** DuckDB prefixes messages with the error class: the caller's mistakes are 400s, the rest 500s. */
function duckdbError(error: unknown): CatalogError {
  const message = error instanceof Error ? error.message : String(error);
  const userError = /^(Parser|Binder|Catalog|Conversion|Invalid Input|Permission|Not implemented) Error/.test(
    message,
  );
  return new CatalogError(`DuckDB query failed: ${message}`, {
    code: userError ? 'invalid_query' : 'query_failed',
    status: userError ? 400 : 500,
    retriable: /^IO Error/.test(message),
    cause: error,
  });
}
