/**
 * @module Runs a built query for a request: answers from the cache when it
 * can; otherwise on the engine, under a timeout and cancelled when the client
 * goes away, then caches the JSON body. The one place that turns engine
 * failures into the service's errors.
 */
import type { QueryEngine } from '../shared/catalog/query-engine.ts';
import { CatalogError, PipelineError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { InsightsMetrics } from './metrics.ts';
import type { BuiltQuery, QuerySource } from './queries/query-context.ts';
import type { ResultCache } from './result-cache.ts';

export interface QueryRunnerDeps {
  catalog: QueryEngine;
  cache: ResultCache;
  metrics: InsightsMetrics;
  logger: Logger;
  timeoutMs: number;
}

export interface QueryRun {
  /** Endpoint name, for metrics and the cache key. */
  name: string;
  /** Everything that determines the answer besides the name (project and parameters), stable across requests. */
  key: string;
  rangeEnd: Date;
  signal: AbortSignal;
}

export interface QueryResult {
  body: string;
  cached: boolean;
  source: QuerySource;
}

/** The engine took longer than the configured timeout. */
class QueryTimeoutError extends PipelineError {}
/** The client went away; nobody will read the answer. */
class ClientClosedError extends PipelineError {}

export interface QueryRunner {
  run<T extends object>(
    run: QueryRun,
    built: BuiltQuery<T>,
    envelope: Record<string, unknown>,
  ): Promise<QueryResult>;
}

export function createQueryRunner(deps: QueryRunnerDeps): QueryRunner {
  const { catalog, cache, metrics, logger, timeoutMs } = deps;
  return {
    async run(run, built, envelope) {
      const cacheKey = `${run.name}|${built.source}|${run.key}`;
      const hit = cache.get(cacheKey);
      metrics.cacheLookups.inc({ query: run.name, result: hit === undefined ? 'miss' : 'hit' });
      if (hit !== undefined) return { body: hit, cached: true, source: built.source };

      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([run.signal, timeout]);
      const stopTimer = metrics.queryDuration.startTimer({ query: run.name, source: built.source });
      metrics.queriesInFlight.inc();
      try {
        // Raced against the signal too, so a catalog that cannot cancel still frees the request on time.
        const rows = await raceAbort(
          catalog.query(built.statement.text, [...built.statement.params], { signal }),
          signal,
        );
        const body = JSON.stringify({ ...envelope, source: built.source, ...built.read(rows) });
        cache.set(cacheKey, body, run.rangeEnd);
        stopTimer({ outcome: 'ok' });
        return { body, cached: false, source: built.source };
      } catch (err: unknown) {
        if (timeout.aborted) {
          stopTimer({ outcome: 'timeout' });
          throw new QueryTimeoutError(
            `the query took longer than ${timeoutMs} ms; narrow the range or try again later`,
            { status: 504, code: 'query_timeout', retriable: true, cause: err },
          );
        }
        if (run.signal.aborted) {
          stopTimer({ outcome: 'cancelled' });
          throw new ClientClosedError('the client closed the request', {
            status: 499,
            code: 'client_closed',
            cause: err,
          });
        }
        stopTimer({ outcome: 'error' });
        logger.error({ err, query: run.name, sql: built.statement.text }, 'insights query failed');
        // Even an engine's "bad query" is our fault, never the client's: its parameters were validated.
        throw new CatalogError('the query engine failed to answer; try again later', {
          status: 502,
          code: 'engine_error',
          retriable: err instanceof PipelineError ? err.retriable : true,
          cause: err,
        });
      } finally {
        metrics.queriesInFlight.dec();
      }
    },
  };
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
