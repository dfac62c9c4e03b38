/**
 * @module Prometheus view of the region router (region-router.ts): per region, the events it
 * acknowledged and the attempts that failed (counters, so `rate()` gives the per-region rate),
 * the failovers away from it, and which region is the target now (a 0/1 gauge). Read at
 * scrape time, like the sink's metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RegionRouter } from './region-router.ts';

/** The counters: per region, a running total the router keeps, read at scrape time. */
const COUNTERS = [
  { name: 'edge_region_events_total', help: 'Events a region acknowledged since start.', stat: 'produced' },
  {
    name: 'edge_region_errors_total',
    help: 'Produce attempts that failed or timed out, by region.',
    stat: 'errors',
  },
  {
    name: 'edge_region_failovers_total',
    help: 'Switches of the produce target away from a region (it was unreachable).',
    stat: 'failoversFrom',
  },
] as const;

export function registerRegionMetrics(registry: Registry, router: Pick<RegionRouter, 'stats'>): void {
  for (const { name, help, stat } of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['region'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of router.stats()) this.inc({ region: s.name }, s[stat]);
      },
    });
  }
  new Gauge({
    name: 'edge_region_target',
    help: '1 for the region produces go to now, 0 for the others.',
    labelNames: ['region'] as const,
    registers: [registry],
    collect() {
      for (const s of router.stats()) this.set({ region: s.name }, s.target ? 1 : 0);
    },
  });
}
