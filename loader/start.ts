/**
 * @module The loader as a long-running service: `startLoader(config)` opens
 * the ports (or takes the ones it is given: one-machine mode shares the bus
 * with the edge), then runs `runOnce` on a cron schedule with a little random
 * jitter, so many loaders started together do not hit the bus and the store
 * at the same second. The object-store lock keeps two schedulers (or a
 * scheduler and a replay) from overlapping; a busy lock skips that tick.
 * Metrics go to a prom-client registry the caller can serve.
 */
import { Cron } from 'croner';
import pRetry from 'p-retry';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createLogger, type Logger } from '../shared/logger.ts';
import { type LoaderPorts, openPorts } from './adapters.ts';
import { type CompactionResult, compactionSettings } from './compaction/compact.ts';
import { type LoaderConfig, settingsOf } from './config.ts';
import { crashPointFromEnv, type LoaderDeps } from './loader-deps.ts';
import type { RunResult } from './loader-state.ts';
import { LockBusyError } from './object-store-lock.ts';
import { logProgress, summaryLine } from './progress.ts';
import type { RunOptions } from './run-once.ts';
import { openLoaderPasses } from './scale-out/loader-passes.ts';
import { type LoaderStatus, loaderStatus } from './status.ts';
import { ensureTables } from './steps/register.ts';

export interface LoaderMetrics {
  registry: Registry;
  observe(result: RunResult): void;
  observeCompaction(result: CompactionResult): void;
  lag(value: number): void;
}

export function createLoaderMetrics(registry = new Registry()): LoaderMetrics {
  const duration = new Histogram({
    name: 'loader_run_seconds',
    help: 'Duration of loader runs',
    labelNames: ['command', 'result'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600],
    registers: [registry],
  });
  const events = new Counter({ name: 'loader_events_total', help: 'Events written', registers: [registry] });
  const duplicates = new Counter({
    name: 'loader_duplicates_total',
    help: 'Duplicates dropped',
    registers: [registry],
  });
  const files = new Counter({
    name: 'loader_files_total',
    help: 'Parquet files uploaded',
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'loader_bytes_total',
    help: 'Parquet bytes uploaded',
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'loader_consumer_lag',
    help: 'Messages not yet loaded',
    registers: [registry],
  });
  const deferredRollups = new Counter({
    name: 'loader_rollups_deferred_total',
    help: "Hours whose rollups a scaled-out load left to the slot's next load (their lock stayed busy)",
    registers: [registry],
  });
  const compactedHours = new Counter({
    name: 'loader_compacted_hours_total',
    help: 'Hours rewritten by compaction',
    registers: [registry],
  });
  const compactionFiles = new Counter({
    name: 'loader_compaction_files_total',
    help: 'Files read (before) and written (after) by compaction',
    labelNames: ['side'],
    registers: [registry],
  });
  const compactionRows = new Counter({
    name: 'loader_compaction_rows_total',
    help: 'Rows rewritten by compaction',
    registers: [registry],
  });
  const compactionBytes = new Counter({
    name: 'loader_compaction_bytes_total',
    help: 'Parquet bytes read (before) and written (after) by compaction',
    labelNames: ['side'],
    registers: [registry],
  });
  const compactionSeconds = new Histogram({
    name: 'loader_compaction_seconds',
    help: 'Duration of compaction passes',
    buckets: [0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  return {
    registry,
    observeCompaction(r) {
      compactionSeconds.observe(r.seconds);
      for (const h of r.hours) {
        compactedHours.inc();
        compactionFiles.inc({ side: 'before' }, h.filesBefore);
        compactionFiles.inc({ side: 'after' }, h.filesAfter);
        compactionRows.inc(h.rows);
        compactionBytes.inc({ side: 'before' }, h.bytesBefore);
        compactionBytes.inc({ side: 'after' }, h.bytesAfter);
      }
    },
    observe(r) {
      duration.observe({ command: r.command, result: r.ok ? 'ok' : 'error' }, r.seconds);
      events.inc(r.events);
      duplicates.inc(r.duplicates);
      files.inc(r.files);
      bytes.inc(r.bytes);
      deferredRollups.inc(r.deferredRollups?.length ?? 0);
    },
    lag: (value) => lag.set(value),
  };
}

export interface RunningLoader {
  deps: LoaderDeps;
  metrics: LoaderMetrics;
  /** One run now (outside the schedule); rejects with LockBusyError when one is already running. */
  runNow(options?: RunOptions): Promise<RunResult>;
  /**
   * One run now, waiting (a few minutes at most) for a run in progress to end
   * first, so what was acknowledged before the call is loaded when it returns.
   */
  runWhenFree(options?: RunOptions): Promise<RunResult>;
  /** Offsets, lag and any unfinished run, as `loader status` prints them. */
  status(): Promise<LoaderStatus>;
  /**
   * Starts one run without waiting for it, logging a failure (a busy lock
   * means one is running already). At start-up: whatever an earlier session
   * acknowledged but did not load (stopped between loads, kill -9) is loaded
   * now rather than at the next tick.
   */
  runInBackground(): void;
  /** Stops the schedule and waits for a run in progress to finish; closes the ports it opened. */
  stop(): Promise<void>;
}

export interface StartLoaderOptions {
  /** Ports the caller already has (closed by the caller, not by `stop()`). */
  ports?: Partial<LoaderPorts>;
  logger?: Logger;
  /** false: no cron schedule, loads run only through `runNow`/`runWhenFree`. */
  schedule?: boolean;
  /** Creates the tables before returning, for readers that query before the first load has made them. */
  ensureTables?: boolean;
}

export async function startLoader(
  config: LoaderConfig,
  options: StartLoaderOptions = {},
): Promise<RunningLoader> {
  const logger = options.logger ?? createLogger('loader', config.logLevel);
  const ports = await openPorts(config, logger, options.ports);
  const crashAt = crashPointFromEnv(process.env);
  const deps: LoaderDeps = {
    ...ports,
    logger,
    settings: settingsOf(config),
    progress: logProgress(logger),
    ...(crashAt ? { crashAt } : {}),
  };
  const closeOwnPorts = async () => {
    if (!options.ports?.catalog) await ports.catalog.close();
    if (!options.ports?.bus) await ports.bus.close();
  };
  // Scaled out, this process is one member of the loader group for as long as it runs.
  const passes = await openLoaderPasses(config, deps, { join: options.schedule !== false }).catch(
    async (err: unknown) => {
      await closeOwnPorts().catch(() => undefined);
      throw err;
    },
  );
  if (options.ensureTables) {
    await ensureTables(deps).catch(async (err: unknown) => {
      await closeOwnPorts().catch(() => undefined);
      throw err;
    });
  }
  const metrics = createLoaderMetrics();
  let current: Promise<unknown> = Promise.resolve();
  let compacting: Promise<void> = Promise.resolve();

  // After a load, in the background (the caller has its result already); stop() waits for it.
  const compactAfterLoad = async (): Promise<void> => {
    try {
      const result = await passes.compact(deps);
      metrics.observeCompaction(result);
      if (result.skipped) logger.info({ compaction: result }, `compaction skipped: ${result.skipped}`);
      else logger.debug({ compaction: result }, 'compaction pass');
    } catch (err) {
      if (err instanceof LockBusyError) logger.debug('compaction: the lock is busy; the next load retries');
      else
        logger.error({ err }, 'compaction failed; the loaded data is unaffected and the next load retries');
    }
  };

  const runNow = async (runOptions: RunOptions = {}): Promise<RunResult> => {
    await compacting; // our own compaction holds the lock: the load waits for it rather than failing busy
    const run = passes.run(deps, runOptions);
    current = run.catch(() => undefined);
    try {
      const result = await run;
      metrics.observe(result);
      logger.info({ summary: result }, summaryLine(result));
      if (compactionSettings(deps).enabled) {
        compacting = compactAfterLoad();
        current = compacting;
      }
      return result;
    } finally {
      await loaderStatus(deps, passes.topics ? { topics: passes.topics } : {})
        .then((s) => metrics.lag(s.lag))
        .catch(() => undefined);
    }
  };

  const tick = async (): Promise<void> => {
    const jitterMs = Math.floor(Math.random() * config.schedule.jitterSeconds * 1000);
    await new Promise((resolve) => setTimeout(resolve, jitterMs));
    try {
      await runNow();
    } catch (err) {
      if (err instanceof LockBusyError)
        logger.warn({ holder: err.holder }, 'another loader is running; skipping this tick');
      else logger.error({ err }, 'scheduled run failed; the next tick retries from the last commit');
    }
  };

  const job =
    options.schedule === false
      ? null
      : new Cron(config.schedule.cron, { timezone: 'UTC', protect: true, name: 'loader' }, () => tick());
  if (job)
    logger.info({ cron: config.schedule.cron, next: job.nextRun()?.toISOString() }, 'loader scheduled');

  return {
    deps,
    metrics,
    runNow,
    runWhenFree: (runOptions) =>
      pRetry(() => runNow(runOptions), {
        retries: 120,
        minTimeout: 250,
        maxTimeout: 2000,
        shouldRetry: ({ error }) => error instanceof LockBusyError,
      }),
    status: () => loaderStatus(deps, passes.topics ? { topics: passes.topics } : {}),
    runInBackground() {
      runNow().catch((err: unknown) => {
        if (!(err instanceof LockBusyError))
          logger.error({ err }, 'background load failed; the next one retries');
      });
    },
    async stop() {
      job?.stop();
      await current;
      await passes.close().catch((err: unknown) => logger.warn({ err }, 'leaving the loader group failed'));
      await closeOwnPorts();
    },
  };
}
