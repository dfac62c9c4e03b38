/**
 * @module The standalone edge on several cores (`workers` > 1): node:cluster
 * forks that many copies of the edge, which share its port (the primary hands
 * out connections in turn). The edge is CPU-bound on its main thread, so one
 * process per core is how one machine uses its cores; each worker is the whole
 * edge, with its own Kafka producer and its own spool.
 *
 * - **Spools**: worker 0 keeps `spool.dir` itself (so going from one process to
 *   several keeps what it spooled), worker i > 0 uses `spool.dir/worker-<i>`;
 *   each gets `spool.maxBytes / workers`, so the disk budget holds. A replaced
 *   worker gets its index, hence its spool, back. Fewer workers than before
 *   would strand the higher ones' spooled events: the edge refuses to start
 *   while such a directory holds a segment (`strandedSpools`).
 * - **Crashes**: a worker that dies after it listened is replaced after a
 *   second; one that dies before (it could not start) stops the edge, rather
 *   than looping.
 * - **SIGTERM/SIGINT**: forwarded to every worker, which stops as a single edge
 *   does; the primary exits when they all have.
 * - **Metrics** (`GET /metrics`): the worker that answers asks the primary, which gathers every
 *   worker's registry (prom-client's AggregatorRegistry: counters and
 *   histograms summed), so a scrape sees the whole edge whichever worker it hits.
 */

import cluster, { type Worker } from 'node:cluster';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../shared/logger.ts';

const INDEX_ENV = 'EDGE_WORKER_INDEX';
const METRICS_REQUEST = 'edge:metrics-request';
const METRICS_RESPONSE = 'edge:metrics-response';
/** Before a crashed worker is replaced, so a fault that recurs at once does not spin a core. */
const RESTART_DELAY_MS = 1000;

/** This process's worker index when node:cluster forked it for the edge, else undefined. */
export function workerIndex(): number | undefined {
  const raw = process.env[INDEX_ENV];
  return cluster.isWorker && raw !== undefined ? Number(raw) : undefined;
}

/** Worker 0 keeps the configured directory; the others a subdirectory each. */
export function workerSpoolDir(dir: string, index: number): string {
  return index === 0 ? dir : join(dir, `worker-${index}`);
}

/**
 * Spool directories of workers at or past `workers` that still hold a
 * non-empty segment: with that few workers nothing would ever drain them.
 */
export async function strandedSpools(dir: string, workers: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const stranded: string[] = [];
  for (const entry of entries) {
    const index = /^worker-(\d+)$/.exec(entry.name)?.[1];
    if (!entry.isDirectory() || index === undefined || Number(index) < workers) continue;
    const sub = join(dir, entry.name);
    const segments = (await readdir(sub)).filter((f) => f.endsWith('.seg'));
    const sizes = await Promise.all(segments.map((f) => stat(join(sub, f)).then((s) => s.size)));
    if (sizes.some((size) => size > 0)) stranded.push(sub);
  }
  return stranded.sort();
}

/**
 * In a worker: /metrics renders the whole cluster's metrics, through the
 * primary. `registry` is this worker's, the one the primary collects.
 */
export function clusterMetricsRenderer(
  registry: Registry,
): () => Promise<{ contentType: string; body: string }> {
  AggregatorRegistry.setRegistries(registry);
  // prom-client answers the primary's requests only once an AggregatorRegistry exists in the worker.
  new AggregatorRegistry();
  let next = 0;
  const waiting = new Map<number, (reply: { body?: string; error?: string }) => void>();
  process.on('message', (message: { type?: string; id?: number; body?: string; error?: string }) => {
    if (message?.type !== METRICS_RESPONSE || message.id === undefined) return;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, ({ body, error }) =>
        body === undefined
          ? reject(new Error(`cluster metrics: ${error ?? 'no answer'}`))
          : resolve({ contentType: registry.contentType, body }),
      );
      process.send?.({ type: METRICS_REQUEST, id });
    });
}

/**
 * The primary: forks `workers` edges, replaces those that crash, forwards the
 * stop signals and resolves once every worker has exited after one; rejects
 * when a worker could not start.
 */
export function runPrimary(workers: number, logger: Logger): Promise<void> {
  const aggregator = new AggregatorRegistry();
  const running = new Map<number, Worker>();
  let stopping = false;
  return new Promise((resolve, reject) => {
    const finishIfDone = () => {
      if (stopping && running.size === 0) resolve();
    };
    const fork = (index: number) => {
      if (stopping) return;
      const worker = cluster.fork({ [INDEX_ENV]: String(index) });
      running.set(index, worker);
      let listened = false;
      worker.on('listening', () => {
        listened = true;
      });
      worker.on('message', (message: { type?: string; id?: number }) => {
        if (message?.type !== METRICS_REQUEST) return;
        aggregator.clusterMetrics().then(
          (body) => worker.send({ type: METRICS_RESPONSE, id: message.id, body }),
          (err: unknown) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: String(err) }),
        );
      });
      worker.on('exit', (code, signal) => {
        running.delete(index);
        if (stopping) return finishIfDone();
        if (!listened) {
          logger.error({ worker: index, code, signal }, 'edge worker could not start; stopping the edge');
          stop();
          reject(new Error(`edge worker ${index} exited before it listened (code ${code})`));
          return;
        }
        logger.error({ worker: index, code, signal }, 'edge worker died; replacing it on its own spool');
        setTimeout(() => fork(index), RESTART_DELAY_MS);
      });
    };
    const stop = () => {
      stopping = true;
      for (const worker of running.values()) worker.process.kill('SIGTERM');
      finishIfDone();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      logger.info({ signal, workers: running.size }, 'stopping: every worker drains its requests and spool');
      stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    for (let i = 0; i < workers; i++) fork(i);
    logger.info({ workers }, 'edge primary: workers forked');
  });
}
