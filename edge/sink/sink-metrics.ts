/**
 * @module Prometheus view of the Node sink: spool depth (what an autoscaler
 * and an on-call watch while Kafka is down), the mode, and how events went.
 * Read at scrape time, so the hot path pays nothing.
 */
import { Gauge, type Registry } from 'prom-client';
import type { DiskSpool } from './disk-spool.ts';
import type { KafkaOrSpoolSink } from './kafka-or-spool-sink.ts';

export function registerSinkMetrics(registry: Registry, sink: KafkaOrSpoolSink, spool: DiskSpool): void {
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
  new Gauge({
    name: 'edge_sink_events',
    help: 'Events by path since start: produced directly, spooled, drained, quarantined (refused by the bus).',
    labelNames: ['path'] as const,
    registers: [registry],
    collect() {
      const s = sink.stats();
      this.set({ path: 'direct' }, s.producedDirect);
      this.set({ path: 'spooled' }, s.spooled);
      this.set({ path: 'drained' }, s.drained);
      this.set({ path: 'quarantined' }, s.quarantined);
    },
  });
  new Gauge({
    name: 'edge_bus_failures',
    help: 'Failed or timed-out bus produce attempts since start.',
    registers: [registry],
    collect() {
      this.set(sink.stats().busFailures);
    },
  });
}
