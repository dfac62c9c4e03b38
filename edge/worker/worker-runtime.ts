/**
 * @module What one Worker isolate builds from its bindings, once: the
 * config, the shared edge app over a QueueSink, and the consumer's
 * forwarder. Kept per `env` object (a test may pass another env), built on
 * first use because a Worker gets its bindings only with a request.
 */
import type { Hono } from 'hono';
import type { Logger } from '../../shared/logger.ts';
import { createApp } from '../app.ts';
import { systemClock } from '../clock.ts';
import type { EdgeEnv } from '../deps.ts';
import { noopMetrics } from '../metrics.ts';
import { createStaticRegistry } from '../project-registry.ts';
// Written before every run by wrangler's [build] command and by the tests' global setup
// (edge/worker/README.md, "The tracker"); never committed, so never older than edge/tracker.
import trackerSource from './generated/t.js.txt';
import { CLOUDFLARE_QUEUE_LIMITS } from './queue-message.ts';
import { QueueSink } from './queue-sink.ts';
import type { ForwarderDeps } from './relay-forwarder.ts';
import { createRouteScope, type RouteScope } from './request-route.ts';
import { type Env, parseWorkerConfig, type WorkerConfig } from './worker-config.ts';
import { createWorkerLogger } from './worker-logger.ts';

export interface WorkerRuntime {
  config: WorkerConfig;
  logger: Logger;
  app: Hono<EdgeEnv>;
  routes: RouteScope;
  forwarder: ForwarderDeps;
}

const runtimes = new WeakMap<Env, WorkerRuntime>();

export function runtimeFor(env: Env): WorkerRuntime {
  let runtime = runtimes.get(env);
  if (!runtime) {
    runtime = buildRuntime(env);
    runtimes.set(env, runtime);
  }
  return runtime;
}

function buildRuntime(env: Env): WorkerRuntime {
  const config = parseWorkerConfig(env);
  const logger = createWorkerLogger(config.logLevel);
  const routes = createRouteScope();
  const app = createApp({
    projects: createStaticRegistry(config.projects),
    sink: new QueueSink({
      queue: env.EVENTS_QUEUE,
      currentRoute: routes.current,
      limits: CLOUDFLARE_QUEUE_LIMITS,
    }),
    clock: systemClock,
    limits: config.limits,
    // An isolate's counters are one slice of the traffic: there is no
    // /metrics to scrape on Workers (Workers analytics count requests).
    metrics: noopMetrics,
    logger,
    ipSalt: config.ipSalt,
    // The Worker relays; it does not take relay batches itself.
    relaySecret: undefined,
    countryHeader: 'cf-ipcountry',
    clientIp: (c) => c.req.header('cf-connecting-ip'),
    // A Worker cannot run esbuild: the bundle arrives as a text module.
    trackerScript: () => Promise.resolve(trackerSource),
  });
  const forwarder: ForwarderDeps = {
    regions: config.regions,
    settings: config.relay,
    relaySecret: config.relaySecret,
    logger,
    // Called unbound, workerd's fetch throws "Illegal invocation".
    fetch: (input, init) => fetch(input, init),
    nowMs: () => Date.now(),
    random: Math.random,
  };
  return { config, logger, app, routes, forwarder };
}
