/**
 * Every endpoint on both engines against the same seeded warehouse: each
 * answer must equal the numbers computed in plain JS from the seed
 * (fixtures/reference-answers.ts), and DuckDB and HiveServer2 must answer
 * identically, byte for byte of JSON. Crawlers are in the warehouse and left
 * out by default, as the dashboard does.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { readStackEnv } from '../test/infra/stack-env.ts';
import { createInsightsApp } from './app.ts';
import {
  duckdbWarehouse,
  type EngineWarehouse,
  hiveWarehouse,
  newRunId,
} from './fixtures/engine-warehouses.ts';
import * as ref from './fixtures/reference-answers.ts';
import { FUNNEL, seededTraffic } from './fixtures/seeded-traffic.ts';
import { visitEdgeCases } from './fixtures/visit-edge-cases.ts';
import { createInsightsMetrics } from './metrics.ts';
import { createProjectRegistry } from './projects.ts';
import { createResultCache, DEFAULT_CACHE_OPTIONS } from './result-cache.ts';

const SEED = 20261120;
const facts = [
  ...seededTraffic({
    seed: SEED,
    start: new Date('2026-11-20T00:00:00Z'),
    hours: 72,
    projects: ['acme', 'beta', 'gamma'],
    visitorsPerProject: 70,
  }),
  // Visits the per-visit rollup must merge exactly: across hours, ties of one second, late events.
  ...visitEdgeCases('acme', '2026-11-21'),
];
/** What the dashboard counts by default: every fact but the crawlers'. */
const people = ref.audienceFacts(facts);
const KEYS = { acme: 'rk_it_acme_0123456789', beta: 'rk_it_beta_0123456789' } as const;

function appFor(warehouse: EngineWarehouse, rollups: boolean) {
  const app = createInsightsApp({
    catalog: warehouse.catalog,
    dialect: warehouse.dialect,
    tables: warehouse.tables,
    projects: createProjectRegistry([
      { id: 'acme', readKeys: [KEYS.acme] },
      { id: 'beta', readKeys: [KEYS.beta] },
    ]),
    cache: createResultCache(DEFAULT_CACHE_OPTIONS),
    metrics: createInsightsMetrics({ processMetrics: false }),
    logger: createLogger('insights-it', 'warn'),
    rollups,
    queryTimeoutMs: 170_000,
  });
  return async (path: string, key: string = KEYS.acme) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${warehouse.engine} ${path}: ${res.status} ${text}`);
    return { text, body: JSON.parse(text) as Record<string, unknown> };
  };
}

const hours = { from: new Date('2026-11-20T05:00:00Z'), to: new Date('2026-11-21T17:00:00Z') };
const days = { from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };
const iso = (d: Date) => d.toISOString();
const q = (range: { from: Date; to: Date }) => `from=${iso(range.from)}&to=${iso(range.to)}`;
const envelope = (project: string, range: { from: Date; to: Date }, source: string) => ({
  project,
  from: iso(range.from),
  to: iso(range.to),
  source,
});

interface Case {
  name: string;
  path: string;
  rollups: boolean;
  key?: string;
  expected: Record<string, unknown>;
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (name: string, path: string, expected: Record<string, unknown>, rollups = true, key?: string) =>
    out.push({ name, path, expected, rollups, ...(key ? { key } : {}) });
  for (const event of [null, '$pageview', 'Signed Up']) {
    const e = event === null ? '' : `&event=${encodeURIComponent(event)}`;
    add(`timeseries by hour, event ${event}`, `/v1/insights/timeseries?${q(hours)}&interval=hour${e}`, {
      ...envelope('acme', hours, 'rollup'),
      ...ref.expectedTimeseries(people, 'acme', hours, 'hour', event),
    });
    add(`timeseries by day, event ${event}`, `/v1/insights/timeseries?${q(days)}&interval=day${e}`, {
      ...envelope('acme', days, 'rollup'),
      ...ref.expectedTimeseries(people, 'acme', days, 'day', event),
    });
  }
  add(
    'timeseries by hour, raw events only',
    `/v1/insights/timeseries?${q(hours)}&interval=hour`,
    {
      ...envelope('acme', hours, 'raw'),
      ...ref.expectedTimeseries(people, 'acme', hours, 'hour', null),
    },
    false,
  );
  const tops: [string, ref.TopDimensionFact, { property?: string; event?: string }][] = [
    ['dimension=event', 'event', {}],
    ['dimension=page_path&event=%24pageview', 'page_path', { event: '$pageview' }],
    ['dimension=referrer_host', 'referrer_host', {}],
    ['dimension=country', 'country', {}],
    ['dimension=browser', 'browser', {}],
    ['dimension=os', 'os', {}],
    ['dimension=device', 'device', {}],
    ['dimension=utm_source', 'utm_source', {}],
    [
      'dimension=property&property=plan&event=Signed+Up',
      'property',
      { property: 'plan', event: 'Signed Up' },
    ],
    ['dimension=property&property=cart.total', 'property', { property: 'cart.total' }],
    ['dimension=property&property=note', 'property', { property: 'note' }],
    ['dimension=property&property=amount', 'property', { property: 'amount' }],
  ];
  for (const [params, dimension, options] of tops) {
    add(`top ${params}`, `/v1/insights/top?${q(days)}&${params}&limit=6`, {
      // Properties, and a column for one event other than page views, only raw rows answer.
      ...envelope('acme', days, dimension === 'property' ? 'raw' : 'rollup'),
      ...ref.expectedTop(people, 'acme', days, dimension, { ...options, limit: 6 }),
    });
  }
  const funnels: [string[], number][] = [
    [[...FUNNEL], 3600],
    [[...FUNNEL], 86_400],
    [['$pageview', '$pageview', 'Signed Up'], 1800],
  ];
  for (const [steps, window] of funnels) {
    add(
      `funnel ${steps.join(' > ')} within ${window}s`,
      `/v1/insights/funnel?${q(days)}&${steps.map((s) => `step=${encodeURIComponent(s)}`).join('&')}&window=${window}`,
      { ...envelope('acme', days, 'rollup'), ...ref.expectedFunnel(people, 'acme', days, steps, window) },
    );
  }
  add('retention', `/v1/insights/retention?${q(days)}`, {
    ...envelope('acme', days, 'rollup'),
    ...ref.expectedRetention(people, 'acme', days, null),
  });
  add('retention of page views', `/v1/insights/retention?${q(days)}&event=%24pageview`, {
    ...envelope('acme', days, 'rollup'),
    ...ref.expectedRetention(people, 'acme', days, '$pageview'),
  });
  add(
    'retention, raw events only',
    `/v1/insights/retention?${q(days)}`,
    {
      ...envelope('acme', days, 'raw'),
      ...ref.expectedRetention(people, 'acme', days, null),
    },
    false,
  );
  const summary = { from: new Date('2026-11-21T12:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };
  add('summary', `/v1/insights/summary?${q(summary)}`, {
    ...envelope('acme', summary, 'rollup'),
    ...ref.expectedSummary(people, 'acme', summary),
  });
  add(
    'summary of another project, with its own key',
    `/v1/insights/summary?${q(summary)}`,
    {
      ...envelope('beta', summary, 'rollup'),
      ...ref.expectedSummary(people, 'beta', summary),
    },
    true,
    KEYS.beta,
  );
  // The dashboard's audience, per-visit panels and goals.
  for (const dimension of ['source', 'entry_page', 'exit_page'] as const) {
    const path = `/v1/insights/visits?${q(days)}&dimension=${dimension}&limit=8`;
    const expected = ref.expectedVisits(people, 'acme', days, dimension, 8);
    add(`visits by ${dimension}`, path, { ...envelope('acme', days, 'rollup'), ...expected });
    add(
      `visits by ${dimension}, raw events only`,
      path,
      { ...envelope('acme', days, 'raw'), ...expected },
      false,
    );
  }
  // A range that cuts the edge cases' visits apart at both ends.
  const cut = { from: new Date('2026-11-21T11:00:00Z'), to: new Date('2026-11-21T18:00:00Z') };
  add(`visits by exit page, ${q(cut)}`, `/v1/insights/visits?${q(cut)}&dimension=exit_page&limit=20`, {
    ...envelope('acme', cut, 'rollup'),
    ...ref.expectedVisits(people, 'acme', cut, 'exit_page', 20),
  });
  add('goal: an event', `/v1/insights/goal?${q(days)}&event=Signed+Up`, {
    ...envelope('acme', days, 'raw'),
    ...ref.expectedGoal(people, 'acme', days, { event: 'Signed Up' }),
  });
  add('goal: a page, filtered by country', `/v1/insights/goal?${q(days)}&page=%2Fpricing&filter=country:DE`, {
    ...envelope('acme', days, 'raw'),
    ...ref.expectedGoal(ref.audienceFacts(facts, { filters: [['country', 'DE']] }), 'acme', days, {
      page: '/pricing',
    }),
  });
  add('top browsers with bots', `/v1/insights/top?${q(days)}&dimension=browser&limit=6&bots=include`, {
    ...envelope('acme', days, 'raw'),
    ...ref.expectedTop(facts, 'acme', days, 'browser', { limit: 6 }),
  });
  add(
    'timeseries by hour, filtered by two columns',
    `/v1/insights/timeseries?${q(hours)}&interval=hour&filter=device:mobile&filter=${encodeURIComponent("page_path:/o'reilly")}`,
    {
      ...envelope('acme', hours, 'raw'),
      ...ref.expectedTimeseries(
        ref.audienceFacts(facts, {
          filters: [
            ['device', 'mobile'],
            ['page_path', "/o'reilly"],
          ],
        }),
        'acme',
        hours,
        'hour',
        null,
      ),
    },
  );
  // Hostile names reach the engines as bound values: they match nothing and break nothing.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HiveServer2 substitutes ${env:…} in SQL text; it must not here
  for (const hostile of ["x' OR '1'='1", "'); DROP TABLE events; --", '${env:HOME}', 'a\\', 'ünï 🎉 ?']) {
    add(
      `timeseries for hostile event name ${JSON.stringify(hostile)}`,
      `/v1/insights/timeseries?${q(days)}&interval=day&event=${encodeURIComponent(hostile)}`,
      {
        ...envelope('acme', days, 'rollup'),
        ...ref.expectedTimeseries(people, 'acme', days, 'day', hostile),
      },
    );
  }
  return out;
}

describe('insights on DuckDB and HiveServer2', () => {
  let duck: EngineWarehouse;
  let hive: EngineWarehouse;
  let apps: Record<'duckdb' | 'hive', Record<'rollups' | 'raw', ReturnType<typeof appFor>>>;

  beforeAll(async () => {
    const runId = newRunId('it');
    [duck, hive] = await Promise.all([
      duckdbWarehouse(facts, runId),
      hiveWarehouse(facts, runId, readStackEnv()),
    ]);
    apps = {
      duckdb: { rollups: appFor(duck, true), raw: appFor(duck, false) },
      hive: { rollups: appFor(hive, true), raw: appFor(hive, false) },
    };
    // Hive registers every partition of six tables one DDL statement at a time: minutes on a busy machine.
  }, 900_000);

  afterAll(async () => {
    await Promise.all([duck?.cleanup(), hive?.cleanup()]);
  });

  // Concurrent (vitest's maxConcurrency, 5): each case only reads, and HiveServer2 runs a few local
  // MapReduce jobs side by side; in series these cases were the longest file of the CI run.
  it.concurrent.for(cases())('$name', async ({ path, rollups, key, expected }, { expect }) => {
    const mode = rollups ? 'rollups' : 'raw';
    const [fromDuck, fromHive] = await Promise.all([
      apps.duckdb[mode](path, key),
      apps.hive[mode](path, key),
    ]);
    expect(fromDuck.body).toEqual(expected);
    expect(fromHive.text).toBe(fromDuck.text);
  });
});
