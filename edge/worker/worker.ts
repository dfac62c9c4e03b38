/**
 * @module The Cloudflare Worker: the edge's public API on Workers, and the
 * consumer of its events queue. Thin by design: `fetch` serves the shared
 * Hono app (edge/app.ts) over a QueueSink, with the client address from
 * cf-connecting-ip and the route (continent, colo, country) from
 * request.cf; `queue` forwards batches to the regional Node relays
 * (relay-forwarder.ts). Configuration: wrangler.toml at the repository root
 * and edge/worker/README.md.
 */
import { errorBody } from '../error-response.ts';
import { forwardBatch } from './relay-forwarder.ts';
import { acceptRouteOf, withCountryHeader } from './request-route.ts';
import type { Env } from './worker-config.ts';
import { runtimeFor, type WorkerRuntime } from './worker-runtime.ts';

export type { Env } from './worker-config.ts';

function runtimeOrError(env: Env): WorkerRuntime | Error {
  try {
    return runtimeFor(env);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export default {
  async fetch(request, env, ctx) {
    const runtime = runtimeOrError(env);
    if (runtime instanceof Error) {
      console.error(runtime.message);
      return Response.json(errorBody('misconfigured', 'The collector is misconfigured; retry later.'), {
        status: 503,
        headers: { 'retry-after': '60' },
      });
    }
    const route = acceptRouteOf(request);
    return runtime.routes.run(route, () => runtime.app.fetch(withCountryHeader(request, route), env, ctx));
  },

  async queue(batch, env) {
    // A bad config throws here: every message is retried, none is dropped.
    const runtime = runtimeFor(env);
    await forwardBatch(batch, runtime.forwarder);
  },
} satisfies ExportedHandler<Env>;
