/**
 * The dashboard's audience (filters, bots) and its per-visit and goal
 * endpoints, through the app on a real embedded DuckDB warehouse written by
 * the loader's own runOnce: each answer equals the numbers computed in plain
 * JS from the seeded facts (fixtures/reference-answers.ts). The same cases
 * run on HiveServer2 in engines.integration.test.ts.
 */
import { mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../shared/catalog/catalog.ts';
import { DuckDbCatalog } from '../shared/catalog/duckdb/duckdb-catalog.ts';
import { createLogger } from '../shared/logger.ts';
import { DirObjectStore } from '../shared/object-store/dir/dir-object-store.ts';
import { createInsightsApp } from './app.ts';
import { duckdbWarehouse, type EngineWarehouse, newRunId } from './fixtures/engine-warehouses.ts';
import * as ref from './fixtures/reference-answers.ts';
import { seededTraffic } from './fixtures/seeded-traffic.ts';
import { visitEdgeCases } from './fixtures/visit-edge-cases.ts';
import { createInsightsMetrics } from './metrics.ts';
import { createProjectRegistry } from './projects.ts';
import { createResultCache, DEFAULT_CACHE_OPTIONS } from './result-cache.ts';

const facts = [
  ...seededTraffic({
    seed: 777,
    start: new Date('2026-11-20T00:00:00Z'),
    hours: 48,
    projects: ['acme', 'beta'],
    visitorsPerProject: 60,
  }),
  ...visitEdgeCases('acme', '2026-11-21'),
];
const people = ref.audienceFacts(facts);
const KEY = 'rk_audience_acme_0123456789';
const days = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
const q = `from=${days.from.toISOString()}&to=${days.to.toISOString()}`;

describe('audience, visits and goals on DuckDB', () => {
  let warehouse: EngineWarehouse;
  type Get = (path: string) => Promise<{ status: number; body: Record<string, unknown> }>;
  let get: Get;
  /** The same app with rollups off: raw events answer everything. */
  let getRaw: Get;

  const appOver = (catalog: Catalog, rollups: boolean): Get => {
    const app = createInsightsApp({
      catalog,
      dialect: warehouse.dialect,
      tables: warehouse.tables,
      projects: createProjectRegistry([{ id: 'acme', readKeys: [KEY] }]),
      cache: createResultCache(DEFAULT_CACHE_OPTIONS),
      metrics: createInsightsMetrics({ processMetrics: false }),
      logger: createLogger('insights-audience', 'silent'),
      rollups,
    });
    return async (path) => {
      const res = await app.request(path, { headers: { authorization: `Bearer ${KEY}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
  };

  beforeAll(async () => {
    warehouse = await duckdbWarehouse(facts, newRunId('audience'));
    get = appOver(warehouse.catalog, true);
    getRaw = appOver(warehouse.catalog, false);
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

  it('answers visits from the rollup exactly as from raw events, across hours, ties and late events', async () => {
    // Whole days, single hours and ranges that cut the edge cases' visits (2026-11-21) apart.
    const ranges = [
      days,
      { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') },
      { from: new Date('2026-11-21T11:00:00Z'), to: new Date('2026-11-21T18:00:00Z') },
      { from: new Date('2026-11-21T15:00:00Z'), to: new Date('2026-11-21T16:00:00Z') },
      { from: new Date('2026-11-21T12:00:00Z'), to: new Date('2026-11-21T14:00:00Z') },
    ];
    const edge = ref.audienceFacts(visitEdgeCases('acme', '2026-11-21'));
    for (const range of ranges) {
      const rq = `from=${range.from.toISOString()}&to=${range.to.toISOString()}`;
      for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
        const path = `/v1/insights/visits?${rq}&dimension=${dimension}&limit=100`;
        const rolled = await get(path);
        const raw = await getRaw(path);
        expect(rolled.body, path).toMatchObject({
          source: 'rollup',
          ...ref.expectedVisits(people, 'acme', range, dimension, 100),
        });
        expect(raw.body.source, path).toBe('raw');
        expect(rolled.body.rows, path).toEqual(raw.body.rows);
      }
    }
    // The edge cases alone, in the plain-JS reference, as written in visit-edge-cases.ts.
    const day = { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') };
    const only = (dimension: 'source' | 'entry_page' | 'exit_page') =>
      Object.fromEntries(
        ref
          .expectedVisits(edge, 'acme', day, dimension, 100)
          .rows.map((r) => [r.value ?? 'direct', r.visits]),
      );
    expect(only('entry_page')).toEqual({
      '/a': 1,
      '/y': 1,
      '/blog': 1,
      '/one': 1,
      '/x1': 1,
      '/late': 1,
      '/after': 1,
    });
    expect(only('exit_page')).toEqual({
      '/b': 1,
      '/p': 1,
      '/blog': 1,
      '/two': 1,
      '/x3': 1,
      '/on-time': 1,
      '/after': 1,
    });
    expect(only('source')).toEqual({
      'www.google.com': 2,
      'news.ycombinator.com': 1,
      direct: 2,
      't.co': 1,
      'duckduckgo.com': 1,
    });
  });

  /**
   * A warehouse loaded before sessions_hourly had its page-view columns: the objects whose path
   * contains `part` rewritten without them, read by a freshly opened catalog (as a restarted
   * insights would).
   */
  async function catalogWithoutVisitColumns(part: string, table?: 'table too'): Promise<Catalog> {
    const root = warehouse.storeRoot ?? '';
    if (table) {
      // The table as the earlier loader registered it: the catalog's columns without them either.
      const key = join(root, '_catalog', 'duckdb-catalog.json');
      const metadata = JSON.parse(await readFile(key, 'utf8')) as {
        tables: Record<string, { columns: { name: string }[] }>;
      };
      const stored = metadata.tables[warehouse.tables.sessionsHourly];
      expect(stored).toBeDefined();
      if (stored) stored.columns = stored.columns.filter((c) => !/^(entry|exit)_/.test(c.name));
      await writeFile(key, JSON.stringify(metadata));
    }
    const files = (await readdir(root, { recursive: true })).filter(
      (name) => name.includes(part) && name.endsWith('.parquet'),
    );
    expect(files.length).toBeGreaterThan(0);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    for (const file of files) {
      const path = join(root, file);
      await connection.run(
        `COPY (SELECT project_id, visitor_id, first_second, last_second, events, pageviews FROM read_parquet('${path}')) TO '${path}.old' (FORMAT parquet)`,
      );
      await rename(`${path}.old`, path);
    }
    connection.closeSync();
    db.closeSync();
    return DuckDbCatalog.create({
      store: new DirObjectStore({ root }),
      workDir: await mkdtemp(join(tmpdir(), 'audience-old-')),
      refreshIntervalMs: 0,
    });
  }

  it('answers visits from raw events while hours of the rollup predate its per-visit columns', async () => {
    const catalog = await catalogWithoutVisitColumns('sessions_hourly/dt=2026-11-21/hour=15/');
    try {
      const old = appOver(catalog, true);
      const rq = `from=2026-11-21T14:00:00Z&to=2026-11-21T17:00:00Z`;
      const range = { from: new Date('2026-11-21T14:00:00Z'), to: new Date('2026-11-21T17:00:00Z') };
      for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
        const answer = await old(`/v1/insights/visits?${rq}&dimension=${dimension}&limit=100`);
        expect(answer.body).toMatchObject({
          source: 'raw',
          ...ref.expectedVisits(people, 'acme', range, dimension, 100),
        });
      }
      // Ranges without the old hour are still answered by the rollup.
      const later = await old(
        `/v1/insights/visits?from=2026-11-21T18:00:00Z&to=2026-11-21T20:00:00Z&dimension=source`,
      );
      expect(later.body.source).toBe('rollup');
    } finally {
      await catalog.close();
    }
  });

  it('answers visits from raw events, not a 502, while no hour of the rollup has its per-visit columns', async () => {
    // An insights process upgraded before the loader's first run of this version: the table itself
    // lacks the columns, so the rollup query cannot even be bound; the raw query answers.
    const catalog = await catalogWithoutVisitColumns('sessions_hourly/', 'table too');
    try {
      const old = appOver(catalog, true);
      for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
        const answer = await old(`/v1/insights/visits?${q}&dimension=${dimension}&limit=100`);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          source: 'raw',
          ...ref.expectedVisits(people, 'acme', days, dimension, 100),
        });
      }
    } finally {
      await catalog.close();
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
