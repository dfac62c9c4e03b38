import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { SpoolStats } from './disk-spool.ts';
import type { SinkStats } from './kafka-or-spool-sink.ts';
import { registerSinkMetrics } from './sink-metrics.ts';

function setup() {
  const sinkStats: SinkStats = {
    mode: 'direct',
    producedDirect: 0,
    spooled: 0,
    drained: 0,
    quarantined: 0,
    busFailures: 0,
  };
  const spoolStats: SpoolStats = { bytes: 0, records: 0, segments: 0, maxBytes: 1024 };
  const registry = new Registry();
  registerSinkMetrics(registry, { stats: () => ({ ...sinkStats }) }, { stats: () => ({ ...spoolStats }) });
  return { registry, sinkStats, spoolStats };
}

async function types(registry: Registry): Promise<Record<string, string>> {
  const json = await registry.getMetricsAsJSON();
  return Object.fromEntries(json.map((m) => [m.name, String(m.type)]));
}

describe('registerSinkMetrics', () => {
  it('exposes depths as gauges and running totals as counters', async () => {
    const { registry } = setup();
    expect(await types(registry)).toEqual({
      edge_spool_bytes: 'gauge',
      edge_spool_records: 'gauge',
      edge_spool_capacity_bytes: 'gauge',
      edge_sink_spooling: 'gauge',
      edge_sink_events_total: 'counter',
      edge_bus_failures_total: 'counter',
    });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE edge_sink_events_total counter');
    expect(text).toContain('# TYPE edge_bus_failures_total counter');
    expect(text).toContain('# TYPE edge_spool_bytes gauge');
  });

  it('reads the sink and the spool at every scrape, every path from zero', async () => {
    const { registry, sinkStats, spoolStats } = setup();
    expect(await registry.metrics()).toMatch(/^edge_sink_events_total\{path="quarantined"\} 0$/m);

    Object.assign(sinkStats, { mode: 'spool', producedDirect: 10, spooled: 4, busFailures: 2 });
    Object.assign(spoolStats, { bytes: 512, records: 4 });
    let text = await registry.metrics();
    expect(text).toMatch(/^edge_sink_events_total\{path="direct"\} 10$/m);
    expect(text).toMatch(/^edge_sink_events_total\{path="spooled"\} 4$/m);
    expect(text).toMatch(/^edge_bus_failures_total 2$/m);
    expect(text).toMatch(/^edge_spool_records 4$/m);
    expect(text).toMatch(/^edge_sink_spooling 1$/m);

    // Drained: the spool empties, the totals only grow (and are not added up twice).
    Object.assign(sinkStats, { mode: 'direct', producedDirect: 15, drained: 4 });
    Object.assign(spoolStats, { bytes: 0, records: 0 });
    text = await registry.metrics();
    expect(text).toMatch(/^edge_sink_events_total\{path="direct"\} 15$/m);
    expect(text).toMatch(/^edge_sink_events_total\{path="drained"\} 4$/m);
    expect(text).toMatch(/^edge_bus_failures_total 2$/m);
    expect(text).toMatch(/^edge_spool_records 0$/m);
    expect(text).toMatch(/^edge_sink_spooling 0$/m);
  });
});
