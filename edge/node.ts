/**
 * @module The Node runtime of the edge: the regional relay and a standalone
 * collector. It only builds the deps (Kafka through the bus port, the disk
 * spool, prom-client, pino, the tracker bundled in memory for /t.js), serves
 * `createApp` with shared/node-server.ts (its deadlines for slow clients
 * and JSON answers to malformed HTTP), and turns SIGTERM into an orderly
 * stop: not ready → no new connections → in-flight requests finish (their
 * events durable) → the spool gets a last chance to drain → the bus closes.
 * Whatever is still spooled is delivered by the next start.
 *
 *   node edge/node.ts --config edge.json      (or configured by env: config.ts)
 *   node edge/node.ts --config edge.json --check   (validate and print it, secrets hidden)
 *   node edge/node.ts --config prod.example.json   (the pipeline file: configured as `npm start` does)
 */
import { resolve } from 'node:path';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Command } from 'commander';
import type { Context } from 'hono';
import pRetry from 'p-retry';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createEventBus } from '../shared/adapters.ts';
import type { EventBus } from '../shared/bus/bus.ts';
import { createKafkaClientBus } from '../shared/bus/kafka-client-bus.ts';
import { readConfigFile } from '../shared/config/config-file.ts';
import { dataDirSecrets, pipelineProjects } from '../shared/config/data-dir.ts';
import { isPipelineFile, loadPipelineConfig } from '../shared/config/pipeline-config.ts';
import { configForDisplay } from '../shared/config-display.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { listenOnNode } from '../shared/node-server.ts';
import { runEntry } from '../shared/runtime/entry.ts';
import { stopOnSignals } from '../shared/runtime/signals.ts';
import { createApp } from './app.ts';
import { systemClock } from './clock.ts';
import {
  clusterMetricsRenderer,
  runPrimary,
  strandedSpools,
  workerIndex,
  workerSpoolDir,
} from './cluster.ts';
import { ConfigError, type EdgeConfig, FAILOVER_DEFAULTS, loadEdgeConfig } from './config.ts';
import {
  EDGE_OWN_KEYS,
  type EdgePipelineConfig,
  edgeBusOfPipeline,
  edgeConfigOfPipeline,
  edgePipelineSchema,
} from './pipeline-config.ts';
import { createStaticRegistry } from './project-registry.ts';
import { createPromEdgeMetrics } from './prom-metrics.ts';
import { DiskSpool } from './sink/disk-spool.ts';
import type { EventSink } from './sink/event-sink.ts';
import { KafkaOrSpoolSink } from './sink/kafka-or-spool-sink.ts';
import { registerRegionMetrics } from './sink/region-metrics.ts';
import { RegionRouter } from './sink/region-router.ts';
import { registerSinkMetrics } from './sink/sink-metrics.ts';
import { trackerScript } from './tracker/serve.ts';

export interface StartEdgeOptions {
  /**
   * A bus to use instead of the edge's own Kafka client (one-machine mode passes
   * its shared one); the caller closes it. Without it, `config.kafka.brokers` is required.
   */
  bus?: EventBus;
  logger?: Logger;
  registry?: Registry;
  /** What /metrics answers, when not `registry` alone (a cluster worker: every worker's, cluster.ts). */
  renderMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** The source served as /t.js; by default edge/tracker bundled by esbuild on first request. */
  trackerScript?: () => Promise<string>;
}

export interface EdgeHandle {
  url: string;
  port: number;
  sink: KafkaOrSpoolSink;
  spool: DiskSpool;
  /** With `kafka.regions` (and no bus passed in): which region takes the produces, and how each did. */
  regions: RegionRouter | undefined;
  /** Graceful stop (what SIGTERM does). */
  close(): Promise<void>;
}

export async function startEdge(config: EdgeConfig, options: StartEdgeOptions = {}): Promise<EdgeHandle> {
  const logger = options.logger ?? createLogger('edge');
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const ownsBus = !options.bus;
  const regions = options.bus ? undefined : await regionRouterOf(config, logger);
  const bus = options.bus ?? regions ?? (await kafkaBusOf(config, logger));
  if (regions) registerRegionMetrics(registry, regions);

  const spool = await DiskSpool.open({ ...config.spool, logger: logger.child({ component: 'spool' }) });
  const sink = new KafkaOrSpoolSink({
    bus,
    topic: config.kafka.topic,
    spool,
    logger: logger.child({ component: 'sink' }),
    ...config.sink,
  });
  registerSinkMetrics(registry, sink, spool);

  // Kafka may be down at start: the edge still takes events (into the spool)
  // and keeps trying to create the topic in the background.
  const topicReady = new AbortController();
  const ensureTopic = pRetry(() => bus.ensureTopic(config.kafka.topic, config.kafka.partitions), {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 500,
    maxTimeout: 10_000,
    signal: topicReady.signal,
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (attemptNumber === 1) logger.warn({ err: error }, 'cannot ensure the events topic yet; retrying');
    },
  }).catch(() => {});
  sink.start();

  let stopping = false;
  const guardedSink: EventSink = {
    accept: (events) => sink.accept(events),
    readiness: () => (stopping ? { ready: false, detail: { stopping: true } } : sink.readiness()),
  };
  const app = createApp({
    projects: createStaticRegistry(config.projects),
    sink: guardedSink,
    clock: systemClock,
    limits: config.limits,
    metrics: {
      ...createPromEdgeMetrics(registry),
      ...(options.renderMetrics ? { render: options.renderMetrics } : {}),
    },
    logger,
    ipSalt: config.ipSalt,
    relaySecret: config.relaySecret,
    countryHeader: config.countryHeader,
    clientIp: clientIpReader(config.clientIpHeader),
    trackerScript: options.trackerScript ?? trackerScript,
  });

  const server = await listenOnNode(app.fetch, { host: config.host, port: config.port, http: config.http });
  const { url, port } = server;
  logger.info({ url, topic: config.kafka.topic, spool: spool.stats() }, 'edge listening');

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      stopping = true;
      logger.info('edge stopping');
      // No new connections; idle keep-alive ones closed now, busy ones after the grace period.
      await server.close(config.shutdownGraceMs);
      await sink.close(config.shutdownGraceMs);
      topicReady.abort();
      await ensureTopic;
      if (ownsBus) await bus.close();
      logger.info({ spool: spool.stats() }, 'edge stopped');
    })();
    return closed;
  };
  return { url, port, sink, spool, regions, close };
}

/** With `kafka.regions`: a Kafka client per region behind the failover router. */
async function regionRouterOf(config: EdgeConfig, logger: Logger): Promise<RegionRouter | undefined> {
  const { regions, clientId, client, topic } = config.kafka;
  if (!regions) return undefined;
  const failover = config.kafka.failover ?? FAILOVER_DEFAULTS;
  // The sink's deadline covers one produce through the router: one attempt per region.
  if (config.sink.produceTimeoutMs < failover.attemptTimeoutMs * regions.length) {
    throw new ConfigError(
      `sink.produceTimeoutMs (${config.sink.produceTimeoutMs}) must be at least kafka.failover.attemptTimeoutMs × regions ` +
        `(${failover.attemptTimeoutMs} × ${regions.length}), or a failover never gets its turn before the sink spools`,
    );
  }
  const buses = await Promise.all(
    regions.map(async (r) => ({
      name: r.name,
      bus: await createKafkaClientBus(
        { brokers: r.brokers, clientId, client },
        logger.child({ component: 'kafka', region: r.name }),
      ),
    })),
  );
  return new RegionRouter({
    regions: buses,
    topic,
    ...failover,
    logger: logger.child({ component: 'regions' }),
  });
}

/** The edge's own Kafka client, when the caller passes no bus: then the config must name brokers. */
async function kafkaBusOf(config: EdgeConfig, logger: Logger): Promise<EventBus> {
  const { brokers, clientId, client, compression } = config.kafka;
  if (!brokers) {
    throw new ConfigError(
      'The edge has no bus: list Kafka brokers under "kafka.brokers" (or set KAFKA_BROKERS) or regions under "kafka.regions", or pass a bus to startEdge',
    );
  }
  return createKafkaClientBus(
    { brokers, clientId, client, compression },
    logger.child({ component: 'kafka' }),
  );
}

function clientIpReader(header: string | undefined): (c: Context) => string | undefined {
  if (header) {
    const name = header.toLowerCase();
    return (c) => c.req.header(name)?.split(',')[0]?.trim() || undefined;
  }
  return (c) => {
    try {
      return getConnInfo(c).remote.address;
    } catch {
      return undefined; // not behind @hono/node-server (app.request in tests)
    }
  };
}

/**
 * The edge alone on the pipeline file, configured as `npm start` configures
 * it: its bus from the file (Kafka, or the local log under <dataDir>/bus),
 * the file's projects and the demo project, secrets from <dataDir>/keys.json.
 */
async function startFromPipelineFile(
  config: EdgePipelineConfig,
  logger: Logger,
): Promise<() => Promise<void>> {
  const dataDir = resolve(config.dataDir);
  const secrets = await dataDirSecrets(dataDir);
  const edgeConfig = edgeConfigOfPipeline(config, pipelineProjects(config, secrets), secrets);
  const bus = await createEventBus(edgeBusOfPipeline(config), logger.child({ component: 'bus' }));
  const handle = await startEdge(edgeConfig, { bus, logger }).catch(async (err: unknown) => {
    await bus.close();
    throw err;
  });
  return async () => {
    await handle.close();
    await bus.close();
  };
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('edge')
    .description('Beacon-to-Hive edge: Segment-compatible collector into Kafka, with a disk spool.')
    .option(
      '-c, --config <file>',
      "JSON config file: the edge's own, or the pipeline file npm start reads; environment variables override it",
    )
    .option('--check', 'validate the configuration, print it (secrets hidden) and exit')
    .parse(argv);
  const { config: path, check } = program.opts<{ config?: string; check?: boolean }>();
  const file = path ?? process.env.EDGE_CONFIG;
  const json = file ? readConfigFile(file) : undefined;
  if (json && isPipelineFile(json, EDGE_OWN_KEYS)) {
    const config = loadPipelineConfig(edgePipelineSchema, { path: file, file: json, env: process.env });
    if (check) {
      process.stdout.write(configForDisplay(config));
      return;
    }
    const logger = createLogger('edge', config.logLevel);
    const stop = await startFromPipelineFile(config, logger);
    await stopOnSignals(stop, {
      logger,
      stopping: 'stopping: not ready, draining requests in flight and the spool',
    });
    return;
  }
  const config = loadEdgeConfig({ file });
  if (check) {
    process.stdout.write(configForDisplay(config));
    return;
  }
  const index = workerIndex();
  const base = createLogger('edge');
  const logger = index === undefined ? base : base.child({ worker: index });
  if (index === undefined) {
    const stranded = await strandedSpools(config.spool.dir, config.workers);
    if (stranded.length > 0) {
      throw new ConfigError(
        `spool directories of workers beyond workers=${config.workers} still hold events: ${stranded.join(', ')}; ` +
          'start with as many workers as before until they are drained',
      );
    }
    if (config.workers > 1) return runPrimary(config.workers, logger);
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const handle = await startEdge(
    index === undefined
      ? config
      : {
          ...config,
          spool: {
            ...config.spool,
            dir: workerSpoolDir(config.spool.dir, index),
            maxBytes: Math.floor(config.spool.maxBytes / config.workers),
          },
        },
    { logger, registry, ...(index === undefined ? {} : { renderMetrics: clusterMetricsRenderer(registry) }) },
  );
  await stopOnSignals(() => handle.close(), {
    logger,
    stopping: 'stopping: not ready, draining requests in flight and the spool',
  });
  // A worker's IPC channel to the primary would keep it alive.
  if (index !== undefined) process.disconnect?.();
}

if (import.meta.main) runEntry('edge', () => main(process.argv));
