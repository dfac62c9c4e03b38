/**
 * @module The service's Prometheus metrics, on a registry the caller owns
 * (none is created at import time, so two apps in one process do not clash).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface InsightsMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  queryDuration: Histogram<'query' | 'source' | 'outcome'>;
  cacheLookups: Counter<'query' | 'result'>;
  queriesInFlight: Gauge;
}

export function createInsightsMetrics(
  options: { registry?: Registry; processMetrics?: boolean } = {},
): InsightsMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'insights_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'insights_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'insights_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queryDuration: new Histogram({
      name: 'insights_query_duration_seconds',
      help: 'Engine query duration by query, source (rollup or raw) and outcome',
      labelNames: ['query', 'source', 'outcome'],
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    cacheLookups: new Counter({
      name: 'insights_cache_lookups_total',
      help: 'Result cache lookups by query and result: hit, miss, or shared (a miss that waits for an identical request already on the engine)',
      labelNames: ['query', 'result'],
      registers,
    }),
    queriesInFlight: new Gauge({
      name: 'insights_queries_in_flight',
      help: 'Engine queries running now',
      registers,
    }),
  };
}
