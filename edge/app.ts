/**
 * @module The edge as one Hono app, shared by the Node runtime (node.ts) and
 * the Cloudflare Worker (worker/): each runtime only builds `deps` and
 * translates its platform. Routes live in routes/, the pipeline's named
 * steps in pipeline/, and every error becomes JSON here, in one onError.
 */
import { Hono } from 'hono';
import type { EdgeDeps, EdgeEnv } from './deps.ts';
import { describeError, errorBody } from './error-response.ts';
import { registerCollectRoutes } from './routes/collect.ts';
import { registerOperationRoutes } from './routes/operations.ts';
import { registerRelayRoute } from './routes/relay.ts';
import { registerTrackerScriptRoute } from './routes/tracker-script.ts';

export type { EdgeDeps } from './deps.ts';

export function createApp(deps: EdgeDeps): Hono<EdgeEnv> {
  // strict: false, so /v1/batch/ (some SDKs add the slash) is /v1/batch.
  const app = new Hono<EdgeEnv>({ strict: false });

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.metrics.request(c.get('route') ?? 'unknown', c.res.status, (performance.now() - started) / 1000);
  });

  registerCollectRoutes(app, deps);
  registerRelayRoute(app, deps);
  registerOperationRoutes(app, deps);
  registerTrackerScriptRoute(app, deps);

  app.notFound((c) => {
    c.set('route', 'not_found');
    return c.json(errorBody('not_found', `No endpoint ${c.req.method} ${c.req.path}.`), 404);
  });
  app.onError((err, c) => {
    const answer = describeError(err, deps.logger);
    return c.json(answer.body, answer.status, answer.headers);
  });
  return app;
}
