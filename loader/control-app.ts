/**
 * @module The loader's HTTP surface beside a running loader: liveness, its
 * Prometheus metrics, and (behind a bearer token) its status and a load on
 * demand. A requested load that meets a scheduled one waits for it and runs
 * after, so what was acknowledged before the request is loaded when the
 * answer comes. Errors are the JSON envelope every service answers
 * (shared/runtime/error-answer.ts): a busy lock a 409, a failed load a 500
 * without the error's own text.
 */
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { errorEnvelope } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { errorAnswer } from '../shared/runtime/error-answer.ts';
import type { RunningLoader } from './start.ts';

export function createLoaderControlApp(
  loader: RunningLoader,
  options: { token: string; logger: Logger },
): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) =>
    c.body(await loader.metrics.registry.metrics(), 200, {
      'content-type': loader.metrics.registry.contentType,
    }),
  );
  app.use('/v1/*', bearerAuth({ token: options.token }));
  app.get('/v1/loader/status', async (c) => c.json(await loader.status()));
  app.post('/v1/loader/run', async (c) => c.json(await loader.runWhenFree()));
  // A busy lock is a 409 whose message names the holder; anything else a 500 that says only
  // "retry": the error itself (a path, a host, SQL) stays in the log.
  app.onError((err, c) => {
    const answer = errorAnswer(err, options.logger.child({ request: 'POST /v1/loader/run' }));
    return c.json(answer.body, answer.status, answer.headers);
  });
  app.notFound((c) => c.json(errorEnvelope('not_found', `no such path: ${c.req.path}`), 404));
  return app;
}
