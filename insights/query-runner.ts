/**
 * @module Runs a query for a request: answers from the cache when it can,
 * before the statement is even built; otherwise on the engine, under a
 * timeout, then caches the JSON body. Identical requests that arrive while
 * one is on the engine wait for that one (many people opening one popular
 * dashboard run each of its queries once); the engine query is cancelled
 * only when every request waiting for it has gone away. Queries over raw
 * events (seconds of CPU each on a big site) run at most `rawConcurrency` at
 * once, waiting here rather than holding an engine connection, so the
 * rollup-served panels of every other dashboard still find one. A rollup
 * query whose rows say it cannot answer is followed by its raw fallback
 * (`BuiltQuery.fallback`). The one place that turns engine failures into the
 * service's errors.
 */
import pLimit from 'p-limit';
import type { QueryEngine, Row } from '../shared/catalog/query-engine.ts';
import { CatalogError, PipelineError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { InsightsMetrics } from './metrics.ts';
import type { BuiltQuery } from './queries/query-context.ts';
import type { ResultCache } from './result-cache.ts';

export interface QueryRunnerDeps {
  catalog: QueryEngine;
  cache: ResultCache;
  metrics: InsightsMetrics;
  logger: Logger;
  timeoutMs: number;
  /** Raw-event queries on the engine at once (default 2): the rest wait their turn here. */
  rawConcurrency?: number;
}

export interface QueryRun {
  /** Endpoint name, for metrics and the cache key. */
  name: string;
  /**
   * Everything that determines the answer besides the name (project, parameters, whether rollups
   * may answer), stable across requests.
   */
  key: string;
  rangeEnd: Date;
  signal: AbortSignal;
}

export interface QueryResult {
  body: string;
  cached: boolean;
}

/** The engine took longer than the configured timeout. */
class QueryTimeoutError extends PipelineError {}
/** The client went away; nobody will read the answer. */
class ClientClosedError extends PipelineError {}

export interface QueryRunner {
  /** `build` is called only on a cache miss that no identical request is already running. */
  run<T extends object>(
    run: QueryRun,
    build: () => BuiltQuery<T>,
    envelope: Record<string, unknown>,
  ): Promise<QueryResult>;
}

/** One engine query and the requests waiting for it. */
interface Flight {
  body: Promise<string>;
  waiting: number;
  /** Cancels the engine query: when its last waiting request has gone away. */
  cancel: AbortController;
}

export function createQueryRunner(deps: QueryRunnerDeps): QueryRunner {
  const { catalog, cache, metrics, logger, timeoutMs } = deps;
  const flights = new Map<string, Flight>();
  const rawLane = pLimit(deps.rawConcurrency ?? 2);

  /** The engine side of a miss: shared by every identical request while it runs. */
  const execute = async (
    name: string,
    cacheKey: string,
    built: BuiltQuery<object>,
    rangeEnd: Date,
    envelope: Record<string, unknown>,
    cancel: AbortSignal,
  ): Promise<string> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([cancel, timeout]);
    // The source label is set when the query ends (a rollup query may hand over to its fallback),
    // before the outcome, so the series print their labels in the order they always had.
    let used = built;
    const stopTimer = metrics.queryDuration.startTimer({ query: name });
    metrics.queriesInFlight.inc();
    try {
      // Raced against the signal too, so a catalog that cannot cancel still frees the request on time.
      const ask = (query: BuiltQuery<object>) => {
        const once = () => {
          // Its turn may come after everyone waiting for it has left, or after the deadline.
          if (signal.aborted) return Promise.reject(signal.reason);
          return catalog.query(query.statement.text, [...query.statement.params], { signal });
        };
        return raceAbort(query.source === 'raw' ? rawLane(once) : once(), signal);
      };
      let rows: Row[];
      try {
        rows = await ask(built);
      } catch (err) {
        // A table that lacks the rollup's columns altogether (an insights process upgraded before the
        // loader's next run adds them) cannot answer either: the raw query can, exactly.
        if (!built.fallback || signal.aborted) throw err;
        logger.warn({ err, query: name }, 'rollup query failed; answering from raw events');
        used = built.fallback.query();
        rows = await ask(used);
      }
      if (used === built && built.fallback?.needed(rows)) {
        used = built.fallback.query();
        rows = await ask(used);
      }
      const body = JSON.stringify({ ...envelope, source: used.source, ...used.read(rows) });
      cache.set(cacheKey, body, rangeEnd);
      stopTimer({ source: used.source, outcome: 'ok' });
      return body;
    } catch (err: unknown) {
      if (timeout.aborted) {
        stopTimer({ source: used.source, outcome: 'timeout' });
        throw new QueryTimeoutError(
          `the query took longer than ${timeoutMs} ms; narrow the range or try again later`,
          { status: 504, code: 'query_timeout', retriable: true, cause: err },
        );
      }
      if (cancel.aborted) {
        stopTimer({ source: used.source, outcome: 'cancelled' });
        throw new ClientClosedError('the client closed the request', {
          status: 499,
          code: 'client_closed',
          cause: err,
        });
      }
      stopTimer({ source: used.source, outcome: 'error' });
      logger.error({ err, query: name, sql: used.statement.text }, 'insights query failed');
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
  };

  return {
    async run(run, build, envelope) {
      const cacheKey = `${run.name}|${run.key}`;
      const hit = cache.get(cacheKey);
      if (hit !== undefined) {
        metrics.cacheLookups.inc({ query: run.name, result: 'hit' });
        return { body: hit, cached: true };
      }
      let flight = flights.get(cacheKey);
      metrics.cacheLookups.inc({ query: run.name, result: flight === undefined ? 'miss' : 'shared' });
      if (flight === undefined) {
        const cancel = new AbortController();
        const started: Flight = {
          body: execute(run.name, cacheKey, build(), run.rangeEnd, envelope, cancel.signal),
          waiting: 0,
          cancel,
        };
        flights.set(cacheKey, started);
        const done = () => {
          if (flights.get(cacheKey) === started) flights.delete(cacheKey);
        };
        started.body.then(done, done);
        flight = started;
      }
      const shared = flight;
      shared.waiting += 1;
      let left = false;
      const leave = (cancelIfLast: boolean) => {
        if (left) return;
        left = true;
        shared.waiting -= 1;
        if (cancelIfLast && shared.waiting === 0) shared.cancel.abort(run.signal.reason);
      };
      const onAbort = () => leave(true);
      if (run.signal.aborted) onAbort();
      else run.signal.addEventListener('abort', onAbort, { once: true });
      try {
        return { body: await raceAbort(shared.body, run.signal), cached: false };
      } catch (err: unknown) {
        if (run.signal.aborted && !(err instanceof PipelineError)) {
          throw new ClientClosedError('the client closed the request', {
            status: 499,
            code: 'client_closed',
            cause: err,
          });
        }
        throw err;
      } finally {
        run.signal.removeEventListener('abort', onAbort);
        leave(false);
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
