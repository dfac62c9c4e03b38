/**
 * The dashboard's audience (filters, bots) and its per-visit and goal
 * endpoints, through the app on a real embedded DuckDB warehouse written by
 * the loader's own runOnce: each answer equals the numbers computed in plain
 * JS from the seeded facts (fixtures/reference-answers.ts). The same cases
 * run on HiveServer2 in engines.integration.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { createInsightsApp } from './app.ts';
import { duckdbWarehouse, type EngineWarehouse, newRunId } from './fixtures/engine-warehouses.ts';
import * as ref from './fixtures/reference-answers.ts';
import { seededTraffic } from './fixtures/seeded-traffic.ts';
import { createInsightsMetrics } from './metrics.ts';
import { createProjectRegistry } from './projects.ts';
import { createResultCache, DEFAULT_CACHE_OPTIONS } from './result-cache.ts';

const facts = seededTraffic({
  seed: 777,
  start: new Date('2026-11-20T00:00:00Z'),
  hours: 48,
  projects: ['acme', 'beta'],
  visitorsPerProject: 60,
});
const people = ref.audienceFacts(facts);
const KEY = 'rk_audience_acme_0123456789';
const days = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
const q = `from=${days.from.toISOString()}&to=${days.to.toISOString()}`;

describe('audience, visits and goals on DuckDB', () => {
  let warehouse: EngineWarehouse;
  let get: (path: string) => Promise<{ status: number; body: Record<string, unknown> }>;

  beforeAll(async () => {
    warehouse = await duckdbWarehouse(facts, newRunId('audience'));
    const app = createInsightsApp({
      catalog: warehouse.catalog,
      dialect: warehouse.dialect,
      tables: warehouse.tables,
      projects: createProjectRegistry([{ id: 'acme', readKeys: [KEY] }]),
      cache: createResultCache(DEFAULT_CACHE_OPTIONS),
      metrics: createInsightsMetrics({ processMetrics: false }),
      logger: createLogger('insights-audience', 'silent'),
    });
    get = async (path) => {
      const res = await app.request(path, { headers: { authorization: `Bearer ${KEY}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
  });

  afterAll(async () => {
    await warehouse?.cleanup();
  });

  it('leaves bots out by default, rollups included, and counts them with bots=include', async () => {
    const series = await get(`/v1/insights/timeseries?${q}&interval=hour`);
    expect(series.body).toMatchObject({
      source: 'rollup',
      ...ref.expectedTimeseries(people, 'acme', days, 'hour', null),
    });
    const withBots = await get(`/v1/insights/timeseries?${q}&interval=hour&bots=include`);
    expect(withBots.body).toMatchObject({
      source: 'raw',
      ...ref.expectedTimeseries(facts, 'acme', days, 'hour', null),
    });
    const total = (body: Record<string, unknown>) =>
      (body.points as { events: number }[]).reduce((n, p) => n + p.events, 0);
    expect(total(withBots.body)).toBeGreaterThan(total(series.body));

    const browsers = await get(`/v1/insights/top?${q}&dimension=browser&limit=20`);
    expect(browsers.body).toMatchObject(ref.expectedTop(people, 'acme', days, 'browser', { limit: 20 }));
    const names = (browsers.body.rows as { value: string }[]).map((r) => r.value);
    expect(names).not.toContain('Googlebot');
    const summary = await get(`/v1/insights/summary?${q}&bots=include`);
    expect(summary.body).toMatchObject(ref.expectedSummary(facts, 'acme', days));
    // The rollup summary (session pieces merged over hours), here with a previous period that has data.
    const second = { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
    for (const range of [days, second]) {
      const rolled = await get(
        `/v1/insights/summary?from=${range.from.toISOString()}&to=${range.to.toISOString()}`,
      );
      expect(rolled.body).toMatchObject({ source: 'rollup', ...ref.expectedSummary(people, 'acme', range) });
    }
  });

  it('narrows every endpoint by filters, all at once, reading raw events', async () => {
    const filters: [ref.TopDimensionFact & 'country', string][] = [['country', 'DE']];
    const de = ref.audienceFacts(facts, { filters });
    const summary = await get(`/v1/insights/summary?${q}&filter=country:DE`);
    expect(summary.body).toMatchObject({ source: 'raw', ...ref.expectedSummary(de, 'acme', days) });
    const series = await get(`/v1/insights/timeseries?${q}&interval=day&filter=country:DE`);
    expect(series.body).toMatchObject({
      source: 'raw',
      ...ref.expectedTimeseries(de, 'acme', days, 'day', null),
    });
    const retention = await get(`/v1/insights/retention?${q}&filter=country:DE`);
    expect(retention.body).toMatchObject({ source: 'raw', ...ref.expectedRetention(de, 'acme', days, null) });

    const both = ref.audienceFacts(facts, {
      filters: [
        ['country', 'DE'],
        ['page_path', '/pricing'],
      ],
    });
    const pages = await get(
      `/v1/insights/top?${q}&dimension=browser&filter=country:DE&filter=${encodeURIComponent('page_path:/pricing')}`,
    );
    expect(pages.body).toMatchObject(ref.expectedTop(both, 'acme', days, 'browser', { limit: 10 }));
    expect((pages.body.rows as unknown[]).length).toBeGreaterThan(0);
  });

  it('ranks sources per visit: internal navigation is no referral, none is Direct / None', async () => {
    const sources = await get(`/v1/insights/visits?${q}&dimension=source&limit=20`);
    expect(sources.body).toMatchObject(ref.expectedVisits(people, 'acme', days, 'source', 20));
    const values = (sources.body.rows as { value: string | null }[]).map((r) => r.value);
    expect(values).toContain(null);
    expect(values).toContain('www.google.com');
    expect(values).not.toContain('acme.example.com');
    for (const dimension of ['entry_page', 'exit_page'] as const) {
      const answer = await get(`/v1/insights/visits?${q}&dimension=${dimension}&limit=20`);
      expect(answer.body).toMatchObject(ref.expectedVisits(people, 'acme', days, dimension, 20));
    }
  });

  it('answers a goal, an event or a page, with its conversion rate', async () => {
    const event = await get(`/v1/insights/goal?${q}&event=${encodeURIComponent('Signed Up')}`);
    expect(event.body).toMatchObject(ref.expectedGoal(people, 'acme', days, { event: 'Signed Up' }));
    expect(event.body.converted).toBeGreaterThan(0);
    const page = await get(`/v1/insights/goal?${q}&page=%2Fpricing`);
    expect(page.body).toMatchObject(ref.expectedGoal(people, 'acme', days, { page: '/pricing' }));
    expect(page.body.conversionRate).toBeGreaterThan(0);
  });

  it('refuses bad filters, goals and bots values with a 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      [`/v1/insights/summary?${q}&filter=ip_hash:x`, /filter\.0: expected dimension:value/],
      [`/v1/insights/summary?${q}&filter=country`, /filter\.0/],
      [`/v1/insights/summary?${q}&filter=country:`, /filter\.0: the value must be/],
      [`/v1/insights/summary?${q}&bots=maybe`, /bots/],
      [`/v1/insights/goal?${q}`, /event: give exactly one of event and page/],
      [`/v1/insights/goal?${q}&event=a&page=%2F`, /event: give exactly one/],
      [`/v1/insights/visits?${q}&dimension=country`, /dimension/],
      [`/v1/insights/top?${q}&dimension=country${'&filter=country:DE'.repeat(11)}`, /filter/],
    ];
    for (const [path, message] of cases) {
      const answer = await get(path);
      expect(answer.status, path).toBe(400);
      expect((answer.body.error as { message: string }).message, path).toMatch(message);
    }
  });
});
