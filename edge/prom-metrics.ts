/**
 * @module EdgeMetrics on prom-client, in a registry passed in (one per
 * process, shared with the sink's spool gauges).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EdgeMetrics } from './metrics.ts';

export function createPromEdgeMetrics(registry: Registry): EdgeMetrics {
  const accepted = new Counter({
    name: 'edge_events_accepted_total',
    help: 'Events acknowledged to clients (durable on the bus or in the spool).',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'edge_events_rejected_total',
    help: 'Events refused, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'edge_request_duration_seconds',
    help: 'HTTP request duration by route and status.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    eventsAccepted: (n) => accepted.inc(n),
    eventsRejected: (reason, n) => rejected.inc({ reason }, n),
    request: (route, status, seconds) => duration.observe({ route, status: String(status) }, seconds),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
