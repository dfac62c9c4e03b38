/**
 * @module What a failed or cancelled HiveServer2 statement becomes: a
 * CatalogError whose status and `retriable` say whose fault it was.
 */
import { CatalogError } from '../../errors.ts';
import { describe } from './hive-connection.ts';

/**
 * A failed statement, with the server's message. SQLSTATE 42xxx (syntax,
 * semantics: the query's fault) is a 400; 08xxx, which HiveServer2 reports for
 * execution failures such as an unreachable S3, is retriable.
 */
export function statementError(error: unknown, sql: string, failure = 'failed'): CatalogError {
  if (error instanceof CatalogError) return error;
  const sqlState =
    typeof error === 'object' && error !== null && 'sqlState' in error ? String(error.sqlState) : '';
  const message = describe(error) || '(no message; see the HiveServer2 log)';
  const invalid = sqlState.startsWith('42');
  const retriable = sqlState.startsWith('08');
  return new CatalogError(`Hive statement ${failure}: ${message}\n  ${sql.slice(0, 500)}`, {
    code: invalid ? 'invalid_query' : 'query_failed',
    status: invalid ? 400 : retriable ? 503 : 500,
    retriable,
    cause: error,
  });
}

export function cancelled(timedOut: boolean, timeoutMs: number, cause: unknown): CatalogError {
  return timedOut
    ? new CatalogError(`The Hive statement took over ${timeoutMs} ms and was cancelled`, {
        code: 'timeout',
        status: 504,
        cause,
      })
    : new CatalogError('The Hive statement was cancelled', { code: 'cancelled', status: 499, cause });
}
