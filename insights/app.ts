/**
 * @module The insights service as a Hono app: the read API under
 * /v1/insights (each endpoint scoped to the project of its read key), the
 * dashboard at /, and /healthz, /readyz, /metrics, /openapi.json. Everything
 * it talks to comes in `deps`; the runtime entry (node.ts) only serves it.
 */
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { z } from 'zod';
import type { QueryEngine } from '../shared/catalog/query-engine.ts';
import { errorEnvelope } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { errorAnswer } from '../shared/runtime/error-answer.ts';
import { type AuthEnv, requireReadKey } from './auth.ts';
import { type DashboardAssets, dashboardAssets } from './dashboard-assets.ts';
import type { Dialect } from './dialect/dialect.ts';
import type { HourRange } from './hour-range.ts';
import type { InsightsMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import {
  funnelParams,
  goalParams,
  parseParams,
  projectParams,
  queryObject,
  retentionParams,
  summaryParams,
  timeseriesParams,
  topParams,
  visitsParams,
} from './params.ts';
import type { ProjectRegistry } from './projects.ts';
import { buildFunnel } from './queries/funnel.ts';
import { buildGoal } from './queries/goal.ts';
import type { BuiltQuery, QueryContext, WarehouseTables } from './queries/query-context.ts';
import { buildRetention } from './queries/retention.ts';
import { buildSummary } from './queries/summary.ts';
import { buildTimeseries } from './queries/timeseries.ts';
import { buildTop } from './queries/top.ts';
import { buildVisits } from './queries/visits.ts';
import { createQueryRunner } from './query-runner.ts';
import type { ResultCache } from './result-cache.ts';

export interface InsightsDeps {
  catalog: QueryEngine;
  dialect: Dialect;
  tables: WarehouseTables;
  projects: ProjectRegistry;
  cache: ResultCache;
  metrics: InsightsMetrics;
  logger: Logger;
  /** Let the rollups answer what they can (default true); false reads raw events only. */
  rollups?: boolean;
  /** Per engine query (default 30 s). */
  queryTimeoutMs?: number;
  /** Readiness probe budget (default 5 s). */
  readyTimeoutMs?: number;
  /** Dashboard files; defaults to insights/dashboard and uPlot from node_modules. */
  assets?: DashboardAssets;
  version?: string;
}

const JSON_TYPE = 'application/json; charset=UTF-8';
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export function createInsightsApp(deps: InsightsDeps): Hono<AuthEnv> {
  const { catalog, metrics, logger } = deps;
  const ctx: QueryContext = { dialect: deps.dialect, tables: deps.tables, rollups: deps.rollups ?? true };
  const runner = createQueryRunner({
    catalog,
    cache: deps.cache,
    metrics,
    logger,
    timeoutMs: deps.queryTimeoutMs ?? 30_000,
  });
  const assets = deps.assets ?? dashboardAssets();
  const openApi = JSON.stringify(openApiDocument(deps.version ?? '0.1.0'));
  const app = new Hono<AuthEnv>();

  app.use('*', async (c, next) => {
    const stop = metrics.httpDuration.startTimer();
    await next();
    const route = c.req.routePath;
    stop({ route });
    metrics.httpRequests.inc({ route, status: String(c.res.status) });
  });

  app.onError((err, c) => {
    const answer = errorAnswer(err, logger.child({ path: c.req.path }));
    return c.json(answer.body, answer.status, answer.headers);
  });

  app.notFound((c) => c.json(errorEnvelope('not_found', `no such path: ${c.req.path}`), 404));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    try {
      await catalog.query('SELECT 1 AS ok', [], {
        signal: AbortSignal.timeout(deps.readyTimeoutMs ?? 5_000),
      });
      return c.json({ status: 'ready' });
    } catch (err: unknown) {
      logger.warn({ err }, 'readiness probe: the query engine does not answer');
      return c.json(
        { status: 'not ready', error: { code: 'engine_unavailable', message: String(err) } },
        503,
      );
    }
  });

  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  app.get('/openapi.json', (c) => c.body(openApi, 200, { 'content-type': JSON_TYPE }));

  // Read keys are bearer tokens, never cookies, so any origin may call the API.
  app.use(
    '/v1/*',
    cors({ origin: '*', allowHeaders: ['Authorization'], exposeHeaders: ['X-Insights-Cache'] }),
  );
  app.use('/v1/insights/*', requireReadKey(deps.projects));

  /**
   * One endpoint: its parameters parsed strictly (a 400 names the bad one), its SQL built for the
   * caller's project, and run, or answered from the cache, by the query runner.
   */
  const endpoint = <S extends z.ZodType<{ range: HourRange }>>(
    name: string,
    params: S,
    build: (input: z.output<S> & { projectId: string }, ctx: QueryContext) => BuiltQuery<object>,
  ) =>
    app.get(`/v1/insights/${name}`, async (c: Context<AuthEnv>) => {
      const project = c.get('project');
      const p = parseParams(params, queryObject(new URL(c.req.url).searchParams));
      const { range } = p;
      const result = await runner.run(
        {
          name,
          key: JSON.stringify([project.id, ctx.rollups, p]),
          rangeEnd: range.to,
          signal: c.req.raw.signal,
        },
        () => build({ ...p, projectId: project.id }, ctx),
        { project: project.id, from: range.from.toISOString(), to: range.to.toISOString() },
      );
      return c.body(result.body, 200, {
        'content-type': JSON_TYPE,
        'x-insights-cache': result.cached ? 'hit' : 'miss',
      });
    });

  endpoint('timeseries', timeseriesParams, buildTimeseries);
  endpoint('top', topParams, buildTop);
  endpoint('funnel', funnelParams, buildFunnel);
  endpoint('retention', retentionParams, buildRetention);
  endpoint('summary', summaryParams, buildSummary);
  endpoint('visits', visitsParams, buildVisits);
  endpoint('goal', goalParams, buildGoal);
  app.get('/v1/insights/project', (c) => {
    parseParams(projectParams, queryObject(new URL(c.req.url).searchParams));
    return c.json({ project: c.get('project') });
  });

  app.get('*', async (c, next) => {
    const asset = await assets.get(c.req.path);
    if (asset === undefined) return next();
    return c.body(asset.body, 200, {
      'content-type': asset.contentType,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(asset.contentType.startsWith('text/html') ? { 'content-security-policy': DASHBOARD_CSP } : {}),
    });
  });

  return app;
}
