/**
 * @module The loader's HTTP surface beside a running loader: liveness, its
 * Prometheus metrics, and (behind a bearer token) its status and a load on
 * demand. A requested load that meets a scheduled one waits for it and runs
 * after, so what was acknowledged before the request is loaded when the
 * answer comes.
 */
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { Logger } from '../shared/logger.ts';
import { LockBusyError } from './object-store-lock.ts';
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
  app.post('/v1/loader/run', async (c) => {
    try {
      return c.json(await loader.runWhenFree());
    } catch (err) {
      options.logger.error({ err }, 'requested load failed');
      return c.json({ ok: false, error: (err as Error).message }, err instanceof LockBusyError ? 409 : 500);
    }
  });
  return app;
}
