/**
 * @module Prometheus view of the Node sink: spool depth (what an autoscaler
 * and an on-call watch while Kafka is down), the mode, and how events went.
 * Read at scrape time, so the hot path pays nothing. Depths are gauges;
 * running totals are counters (`_total`), so `rate()` and `increase()` work
 * on them and a restart reads as a counter reset, not as a drop.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DiskSpool } from './disk-spool.ts';
import type { KafkaOrSpoolSink } from './kafka-or-spool-sink.ts';

export function registerSinkMetrics(
  registry: Registry,
  sink: Pick<KafkaOrSpoolSink, 'stats'>,
  spool: Pick<DiskSpool, 'stats'>,
): void {
  new Gauge({
    name: 'edge_spool_bytes',
    help: 'Bytes of acknowledged events waiting in the disk spool.',
    registers: [registry],
    collect() {
      this.set(spool.stats().bytes);
    },
  });
  new Gauge({
    name: 'edge_spool_records',
    help: 'Acknowledged events waiting in the disk spool.',
    registers: [registry],
    collect() {
      this.set(spool.stats().records);
    },
  });
  new Gauge({
    name: 'edge_spool_capacity_bytes',
    help: 'Bound of the disk spool; at it the edge answers 503.',
    registers: [registry],
    collect() {
      this.set(spool.stats().maxBytes);
    },
  });
  new Gauge({
    name: 'edge_sink_spooling',
    help: '1 while events go to the spool (bus failing or spool draining), else 0.',
    registers: [registry],
    collect() {
      this.set(sink.stats().mode === 'direct' ? 0 : 1);
    },
  });
  // The sink keeps these totals itself; at scrape each counter is set to them
  // (reset, then incremented: prom-client counters have no set).
  new Counter({
    name: 'edge_sink_events_total',
    help: 'Events by path since start: produced directly, spooled, drained, quarantined (refused by the bus).',
    labelNames: ['path'] as const,
    registers: [registry],
    collect() {
      const s = sink.stats();
      this.reset();
      this.inc({ path: 'direct' }, s.producedDirect);
      this.inc({ path: 'spooled' }, s.spooled);
      this.inc({ path: 'drained' }, s.drained);
      this.inc({ path: 'quarantined' }, s.quarantined);
    },
  });
  new Counter({
    name: 'edge_bus_failures_total',
    help: 'Failed or timed-out bus produce attempts since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sink.stats().busFailures);
    },
  });
}
