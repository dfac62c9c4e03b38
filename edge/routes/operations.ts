/**
 * @module What an orchestrator and Prometheus need: liveness, readiness (the
 * sink can promise durability now) and metrics, plus CORS preflights.
 */
import type { Hono } from 'hono';
import { preflightHeaders } from '../cors.ts';
import type { EdgeDeps, EdgeEnv } from '../deps.ts';
import { errorBody } from '../error-response.ts';

export function registerOperationRoutes(app: Hono<EdgeEnv>, deps: EdgeDeps): void {
  app.get('/healthz', (c) => {
    c.set('route', 'healthz');
    return c.json({ status: 'ok' });
  });

  app.get('/readyz', (c) => {
    c.set('route', 'readyz');
    const readiness = deps.sink.readiness();
    if (readiness.ready) return c.json({ status: 'ready', ...readiness.detail });
    return c.json(
      { ...errorBody('not_ready', 'The sink cannot take events now.'), ...readiness.detail },
      503,
    );
  });

  app.get('/metrics', async (c) => {
    c.set('route', 'metrics');
    const exposition = await deps.metrics.render();
    if (!exposition) return c.json(errorBody('not_found', 'This runtime exposes no metrics.'), 404);
    return c.body(exposition.body, 200, { 'content-type': exposition.contentType });
  });

  app.options('*', (c) => {
    c.set('route', 'preflight');
    const headers = preflightHeaders(c.req.header('origin'), deps.projects, c.req.query('writeKey'));
    if (!headers) return c.json(errorBody('origin_not_allowed', 'No project allows this origin.'), 403);
    return c.body(null, 204, headers);
  });
}
