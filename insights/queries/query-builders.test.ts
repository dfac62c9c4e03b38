import { describe, expect, it } from 'vitest';
import { duckdbDialect } from '../dialect/duckdb-dialect.ts';
import { hiveDialect } from '../dialect/hive-dialect.ts';
import type { Statement } from '../sql/statement.ts';
import { buildFunnel } from './funnel.ts';
import type { QueryContext } from './query-context.ts';
import { buildRetention } from './retention.ts';
import { buildSummary } from './summary.ts';
import { buildTimeseries } from './timeseries.ts';
import { buildTop } from './top.ts';
import { buildVisits } from './visits.ts';

const tables = {
  events: 'wh.ev',
  eventsHourly: 'wh.ev_hourly',
  visitorsHourly: 'wh.vis_hourly',
  sessionsHourly: 'wh.ses_hourly',
  dimensionsHourly: 'wh.dim_hourly',
  eventTimesHourly: 'wh.times_hourly',
};
const range = { from: new Date('2026-11-20T05:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
const projectId = 'acme';

function contexts(rollups: boolean): QueryContext[] {
  return [hiveDialect, duckdbDialect].map((dialect) => ({ dialect, tables, rollups }));
}

/** Every builder's statement, with both dialects and both rollup settings. */
function allStatements(): { name: string; statement: Statement }[] {
  const out: { name: string; statement: Statement }[] = [];
  for (const ctx of [...contexts(true), ...contexts(false)]) {
    const tag = `${ctx.dialect.engine}/${ctx.rollups ? 'rollups' : 'raw'}`;
    for (const interval of ['hour', 'day'] as const) {
      for (const event of [null, 'Signed Up']) {
        const q = buildTimeseries({ projectId, range, interval, event }, ctx);
        out.push({ name: `${tag} timeseries ${interval} ${event}`, statement: q.statement });
      }
    }
    out.push({
      name: `${tag} top`,
      statement: buildTop(
        { projectId, range, dimension: 'property', property: 'cart.total', event: '$pageview', limit: 7 },
        ctx,
      ).statement,
    });
    out.push({
      name: `${tag} funnel`,
      statement: buildFunnel({ projectId, range, steps: ['A', 'B', 'A'], windowSeconds: 3600 }, ctx)
        .statement,
    });
    out.push({
      name: `${tag} retention`,
      statement: buildRetention({ projectId, range, event: null }, ctx).statement,
    });
    out.push({ name: `${tag} summary`, statement: buildSummary({ projectId, range }, ctx).statement });
    for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
      const visits = buildVisits({ projectId, range, dimension, limit: 9 }, ctx);
      out.push({ name: `${tag} visits ${dimension}`, statement: visits.statement });
      const fallback = visits.fallback?.query();
      if (fallback) out.push({ name: `${tag} visits ${dimension} fallback`, statement: fallback.statement });
    }
  }
  return out;
}

describe('every generated statement', () => {
  it.each(allStatements())(
    '$name binds one value per placeholder and prunes by project and dt',
    ({ statement }) => {
      expect(statement.text.split('?').length - 1).toBe(statement.params.length);
      expect(statement.text).toMatch(/project_id = \? AND (\w+\.)?dt >= \? AND (\w+\.)?dt <= \?/);
      expect(statement.params).toContain(projectId);
      expect(statement.params).toContain('2026-11-20');
      // No quote characters: every string reaches the engine as a parameter.
      expect(statement.text).not.toMatch(/["'`]/);
      expect(statement.text).not.toMatch(/--|\/\*|;/);
    },
  );
});

describe('timeseries', () => {
  const [hive] = contexts(true);
  if (!hive) throw new Error('no context');

  it('answers all events per hour from visitors_hourly', () => {
    const q = buildTimeseries({ projectId, range, interval: 'hour', event: null }, hive);
    expect(q.source).toBe('rollup');
    expect(q.statement.text).toBe(
      'SELECT dt AS dt, hour AS hour, SUM(events) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM wh.vis_hourly WHERE project_id = ? AND dt >= ? AND dt <= ? AND (dt > ? OR hour >= ?) AND (dt < ? OR hour < ?) GROUP BY dt, hour',
    );
    expect(q.statement.params).toEqual([
      'acme',
      '2026-11-20',
      '2026-11-21',
      '2026-11-20',
      '05',
      '2026-11-22',
      '00',
    ]);
  });

  it('answers one event per hour from events_hourly, per day from dimensions_hourly', () => {
    const hourly = buildTimeseries({ projectId, range, interval: 'hour', event: 'Signed Up' }, hive);
    expect(hourly.source).toBe('rollup');
    expect(hourly.statement.text).toContain('FROM wh.ev_hourly WHERE');
    expect(hourly.statement.params.at(-1)).toBe('Signed Up');
    const daily = buildTimeseries({ projectId, range, interval: 'day', event: 'Signed Up' }, hive);
    expect(daily.source).toBe('rollup');
    expect(daily.statement.text).toContain(
      'COUNT(DISTINCT visitor_id) AS visitors FROM wh.dim_hourly WHERE project_id = ?',
    );
    expect(daily.statement.text).toMatch(/AND dimension = \? AND value = \? GROUP BY dt$/);
    expect(daily.statement.params.slice(-2)).toEqual(['event', 'Signed Up']);
  });

  it('reads only raw events when rollups are off', () => {
    for (const ctx of contexts(false)) {
      const q = buildTimeseries({ projectId, range, interval: 'hour', event: null }, ctx);
      expect(q.source).toBe('raw');
      expect(q.statement.text).toContain('FROM wh.ev WHERE');
    }
  });

  it('fills empty buckets with zeros and reads engine value shapes', () => {
    const q = buildTimeseries(
      {
        projectId,
        range: { from: range.from, to: new Date('2026-11-20T08:00:00Z') },
        interval: 'hour',
        event: null,
      },
      hive,
    );
    const answer = q.read([
      { dt: '2026-11-20', hour: '06', events: 5n, visitors: '2' },
      { 'x.dt': '2026-11-20', 'x.hour': 7, 'x.events': 1, 'x.visitors': 1 },
    ]);
    expect(answer.points).toEqual([
      { time: '2026-11-20T05:00:00.000Z', events: 0, visitors: 0 },
      { time: '2026-11-20T06:00:00.000Z', events: 5, visitors: 2 },
      { time: '2026-11-20T07:00:00.000Z', events: 1, visitors: 1 },
    ]);
  });
});

describe('rollup choice', () => {
  const [hive] = contexts(true);
  if (!hive) throw new Error('no context');
  const base = { projectId, range, property: null, limit: 8 };

  it('answers top N of a column over all events, and top pages of page views, from dimensions_hourly', () => {
    for (const [dimension, event, stored] of [
      ['country', null, 'country'],
      ['event', null, 'event'],
      ['page_path', null, 'page_path'],
      ['page_path', '$pageview', 'pageview_path'],
    ] as const) {
      const q = buildTop({ ...base, dimension, event }, hive);
      expect(q.source).toBe('rollup');
      expect(q.statement.text).toContain('FROM wh.dim_hourly WHERE');
      expect(q.statement.params).toContain(stored);
      expect(q.statement.params).not.toContain('$pageview');
    }
  });

  it('reads raw events for properties and other event filters', () => {
    expect(buildTop({ ...base, dimension: 'country', event: 'Signed Up' }, hive).source).toBe('raw');
    expect(buildTop({ ...base, dimension: 'property', property: 'plan', event: null }, hive).source).toBe(
      'raw',
    );
  });

  it('answers summary from sessions_hourly, merging pieces by a running end', () => {
    const q = buildSummary({ projectId, range }, hive);
    expect(q.source).toBe('rollup');
    expect(q.statement.text).toContain('FROM wh.ses_hourly WHERE');
    expect(q.statement.text).toContain(
      'MAX(last_second) OVER (PARTITION BY cur, visitor_id ORDER BY first_second, last_second ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS end_before',
    );
    expect(q.statement.text).toContain('first_second - end_before > 1800');
    expect(q.statement.text).not.toContain('wh.ev ');
  });

  it('answers visits from sessions_hourly, with the raw query as the fallback for pieces without page-view columns', () => {
    for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
      const q = buildVisits({ projectId, range, dimension, limit: 9 }, hive);
      expect(q.source).toBe('rollup');
      expect(q.statement.text).toContain('FROM wh.ses_hourly WHERE');
      expect(q.statement.text).not.toContain('wh.ev ');
      expect(q.statement.text).toContain(
        'CASE WHEN pageviews > 0 AND entry_second IS NULL THEN 1 ELSE 0 END AS stale',
      );
      expect(q.statement.text).toContain('ORDER BY stale DESC, visitors DESC');
      const fallback = q.fallback?.query();
      expect(fallback?.source).toBe('raw');
      expect(fallback?.statement.text).toContain('FROM wh.ev WHERE');
      // A stale row anywhere hands over to the fallback; rows without one are the answer.
      expect(q.fallback?.needed([{ stale: 0, dim_value: '/', visits: 1, visitors: 1 }])).toBe(false);
      expect(q.fallback?.needed([{ stale: 1, dim_value: null, visits: 1, visitors: 1 }])).toBe(true);
      expect(q.read([{ stale: 0, dim_value: '', visits: 3, visitors: 2 }])).toEqual({
        dimension,
        rows: [{ value: null, visits: 3, visitors: 2 }],
      });
    }
    const filtered = buildVisits(
      { projectId, range, dimension: 'source', limit: 9, audience: { filters: [], includeBots: true } },
      hive,
    );
    expect(filtered.source).toBe('raw');
    expect(filtered.fallback).toBeUndefined();
    const [, raw] = contexts(false);
    if (!raw) throw new Error('no context');
    expect(buildVisits({ projectId, range, dimension: 'source', limit: 9 }, raw).source).toBe('raw');
  });

  it('answers funnels from event_times_hourly, raw events when rollups are off', () => {
    const input = { projectId, range, steps: ['A', 'B'], windowSeconds: 60 };
    const q = buildFunnel(input, hive);
    expect(q.source).toBe('rollup');
    expect(q.statement.text).toContain('SELECT visitor_id, event, event_time FROM wh.times_hourly WHERE');
    const [, raw] = contexts(false);
    if (!raw) throw new Error('no context');
    expect(buildFunnel(input, raw).statement.text).toContain('FROM wh.ev WHERE');
  });

  it('answers retention of one event from dimensions_hourly', () => {
    const q = buildRetention({ projectId, range, event: 'Signed Up' }, hive);
    expect(q.source).toBe('rollup');
    expect(q.statement.text).toContain('FROM wh.dim_hourly WHERE');
    expect(q.statement.params.slice(-2)).toEqual(['event', 'Signed Up']);
  });
});

describe('dialects', () => {
  it('extract JSON properties with each engine’s function, the path bound', () => {
    const [hive, duck] = contexts(true);
    if (!hive || !duck) throw new Error('no context');
    const input = {
      projectId,
      range,
      dimension: 'property' as const,
      property: 'cart.total',
      event: null,
      limit: 5,
    };
    const h = buildTop(input, hive).statement;
    expect(h.text).toContain('SELECT get_json_object(properties, ?) AS dim_value');
    expect(h.params).toContain('$.cart.total');
    const d = buildTop(input, duck).statement;
    expect(d.text).toContain(
      'CASE WHEN json_valid(properties) THEN json_extract_string(properties, ?) END AS dim_value',
    );
    expect(d.text).toMatch(/LIMIT 5$/);
  });

  it('take epoch seconds with each engine’s function', () => {
    const [hive, duck] = contexts(true);
    if (!hive || !duck) throw new Error('no context');
    const input = { projectId, range, steps: ['A', 'B'], windowSeconds: 60 };
    expect(buildFunnel(input, hive).statement.text).toContain(
      'event_time > t1 AND unix_timestamp(event_time) - unix_timestamp(t1) <= 60',
    );
    expect(buildFunnel(input, duck).statement.text).toContain(
      'event_time > t1 AND (epoch_ms(event_time) // 1000) - (epoch_ms(t1) // 1000) <= 60',
    );
  });

  it('refuse a property dimension without a key, and dimensions off the whitelist', () => {
    const [hive] = contexts(true);
    if (!hive) throw new Error('no context');
    const base = { projectId, range, property: null, event: null, limit: 5 };
    expect(() => buildTop({ ...base, dimension: 'property' }, hive)).toThrow(/property key/);
    // A value that slipped past validation still cannot become a column name.
    expect(() => buildTop({ ...base, dimension: 'ip_hash' as 'event' }, hive)).toThrow(/not a top dimension/);
  });
});

describe('readers', () => {
  const [ctx] = contexts(true);
  if (!ctx) throw new Error('no context');

  it('compute funnel conversions from step counts', () => {
    const q = buildFunnel({ projectId, range, steps: ['A', 'B', 'C'], windowSeconds: 60 }, ctx);
    const answer = q.read([{ step_1: 8, step_2: 3, step_3: 0 }]);
    expect(answer.steps).toEqual([
      { event: 'A', visitors: 8, conversion: 1, conversionFromStart: 1 },
      { event: 'B', visitors: 3, conversion: 0.375, conversionFromStart: 0.375 },
      { event: 'C', visitors: 0, conversion: 0, conversionFromStart: 0 },
    ]);
  });

  it('build a retention triangle over whole days', () => {
    const days = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };
    const q = buildRetention({ projectId, range: days, event: null }, ctx);
    const answer = q.read([
      { cohort: '2026-11-20', dt: '2026-11-20', visitors: 10 },
      { cohort: '2026-11-20', dt: '2026-11-22', visitors: 4 },
      { cohort: '2026-11-21', dt: '2026-11-21', visitors: 3 },
    ]);
    expect(answer.cohorts).toEqual([
      { day: '2026-11-20', visitors: 10, returning: [10, 0, 4] },
      { day: '2026-11-21', visitors: 3, returning: [3, 0] },
      { day: '2026-11-22', visitors: 0, returning: [0] },
    ]);
  });

  it('derive bounce rate and visit duration per period', () => {
    const q = buildSummary({ projectId, range }, ctx);
    const answer = q.read([
      { cur: 1, visitors: 3, pageviews: 7, events: 9, sessions: 4, bounces: 1, seconds: 1000 },
      { cur: 0, visitors: 0, pageviews: null, events: null, sessions: 0, bounces: null, seconds: null },
    ]);
    expect(answer.current).toMatchObject({ sessions: 4, bounceRate: 0.25, visitDuration: 250, pageviews: 7 });
    expect(answer.previous).toMatchObject({ sessions: 0, bounceRate: 0, visitDuration: 0, events: 0 });
    expect(answer.previous.to).toBe(range.from.toISOString());
  });
});
