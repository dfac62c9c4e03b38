/**
 * @module The `loader` command (commander): run, schedule, replay, import, compact, status;
 * `loader --check` validates the configuration and prints it, secrets hidden.
 * Configuration comes from `--config <file>` / LOADER_CONFIG and the
 * environment (config.ts). On a terminal a run shows a progress bar; piped,
 * it writes JSON log lines. Every run ends with one summary line.
 *
 * Exit codes: 0 done, 1 failed (nothing committed; run again), 2 bad input
 * or configuration, 75 another loader holds the lock (try later).
 *
 * Over 300 lines: the six commands' declarations (options and help text) in
 * one place, so `loader --help` and the README read alike; each command's
 * work is in its own module.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readConfigFile } from '../shared/config/config-file.ts';
import { isPipelineFile, loadPipelineConfig } from '../shared/config/pipeline-config.ts';
import { configForDisplay } from '../shared/config-display.ts';
import { InputError } from '../shared/errors.ts';
import { createLogger } from '../shared/logger.ts';
import { stopOnSignals } from '../shared/runtime/signals.ts';
import { type CompactionResult, compactionSettings } from './compaction/compact.ts';
import { type LoaderConfig, loadConfig, settingsOf } from './config.ts';
import { importEvents } from './import/import.ts';
import { hourLabel, parseHour } from './layout.ts';
import { crashPointFromEnv, type LoaderDeps } from './loader-deps.ts';
import type { RunResult } from './loader-state.ts';
import { LockBusyError } from './object-store-lock.ts';
import { LOADER_OWN_KEYS, loaderConfigOfPipeline, loaderPipelineSchema } from './pipeline-config.ts';
import { logProgress, summaryLine, terminalProgress } from './progress.ts';
import { replayHours } from './replay.ts';
import { type LoaderPasses, openLoaderPasses } from './scale-out/loader-passes.ts';
import { readStatus, statusLines } from './status-command.ts';

interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

function hourArgument(value: string): number {
  try {
    return parseHour(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

interface ResolvedConfig {
  config: LoaderConfig;
  /** What `--check` prints: the pipeline file as resolved (as `npm start --check` does), or the loader's own. */
  shown: unknown;
}

/**
 * The pipeline file (the one `npm start` reads) resolves as it does there
 * (pipeline-config.ts); the loader's own format, or none, as before: defaults
 * ← file ← LOADER_* and the stack's variables.
 */
async function configOf(command: Command): Promise<ResolvedConfig> {
  const global = command.optsWithGlobals<GlobalOptions>();
  const path = global.config ?? process.env.LOADER_CONFIG;
  const file = path ? readConfigFile(path) : undefined;
  if (file && isPipelineFile(file, LOADER_OWN_KEYS)) {
    const pipeline = loadPipelineConfig(loaderPipelineSchema, {
      path,
      file,
      env: process.env,
      flags: { logLevel: global.logLevel },
    });
    return { config: loaderConfigOfPipeline(pipeline), shown: pipeline };
  }
  const config = await loadConfig({
    ...(file ? { fromFile: file } : {}),
    ...(global.logLevel ? { overrides: { logLevel: global.logLevel as LoaderConfig['logLevel'] } } : {}),
  });
  return { config, shown: config };
}

/** Opens the ports, hands deps to `work`, closes them again. */
async function withDeps<T>(
  command: Command,
  work: (deps: LoaderDeps, tty: boolean, config: LoaderConfig) => Promise<T>,
): Promise<T> {
  const { config } = await configOf(command);
  const tty = Boolean(process.stderr.isTTY);
  const logger = createLogger('loader', tty && config.logLevel === 'info' ? 'warn' : config.logLevel);
  // Adapters (AWS SDK, kafkajs, hive-driver, DuckDB) load only when a command needs them: --help stays quick.
  const { openPorts } = await import('./adapters.ts');
  const ports = await openPorts(config, logger);
  const crashAt = crashPointFromEnv(process.env);
  const deps: LoaderDeps = {
    ...ports,
    logger,
    settings: settingsOf(config),
    ...(crashAt ? { crashAt } : {}),
  };
  try {
    return await work(deps, tty, config);
  } finally {
    await ports.catalog.close().catch(() => undefined);
    await ports.bus.close().catch(() => undefined);
  }
}

async function runWithReport(deps: LoaderDeps, tty: boolean, work: (deps: LoaderDeps) => Promise<RunResult>) {
  const bar = tty ? terminalProgress(process.stderr) : null;
  const result = await work({ ...deps, progress: bar ?? logProgress(deps.logger) }).finally(() =>
    bar?.stop(),
  );
  if (tty) process.stdout.write(`${summaryLine(result)}\n`);
  else deps.logger.info({ summary: result }, summaryLine(result));
}

function compactionLine(r: CompactionResult): string {
  if (r.skipped) return `compaction skipped: ${r.skipped}`;
  const before = r.hours.reduce((n, h) => n + h.filesBefore, 0);
  const after = r.hours.reduce((n, h) => n + h.filesAfter, 0);
  const rows = r.hours.reduce((n, h) => n + h.rows, 0);
  const mb = r.hours.reduce((n, h) => n + h.bytesAfter, 0) / 1e6;
  return `compaction ok: ${r.hours.length} hours, ${before} files → ${after}, ${rows} rows, ${mb.toFixed(1)} MB, ${r.waiting} hours not closed yet, ${r.seconds.toFixed(1)} s`;
}

async function compactWithReport(
  deps: LoaderDeps,
  tty: boolean,
  passes: LoaderPasses,
  hours?: number[],
): Promise<void> {
  const result = await passes.compact(deps, hours);
  if (tty) process.stdout.write(`${compactionLine(result)}\n`);
  else deps.logger.info({ compaction: result }, compactionLine(result));
}

export function buildCli(): Command {
  const program = new Command('loader')
    .description(
      'Hourly loader: the event bus into Parquet files in the object store, registered in the catalog, exactly once.',
    )
    .option(
      '-c, --config <file>',
      'JSON config file (default: $LOADER_CONFIG); environment variables override it',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error, silent')
    .option('--check', 'validate the configuration, print it (secrets hidden) and exit')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('One pass over everything up to the high watermarks taken at start, then exit.')
    .option('--until <hour>', 'load nothing received after this UTC hour (e.g. 2026-11-25T09)', hourArgument)
    .option('--no-compact', 'do not compact the closed hours after the load')
    .action(async (opts: { until?: number; compact: boolean }, command: Command) => {
      await withDeps(command, async (deps, tty, config) => {
        // Scaled out, this process joins the loader group and loads the slots it is assigned.
        const passes = await openLoaderPasses(config, deps, { join: true });
        try {
          await runWithReport(deps, tty, (d) =>
            passes.run(d, opts.until !== undefined ? { until: opts.until } : {}),
          );
          if (!opts.compact || !compactionSettings(deps).enabled) return;
          // The load is committed: a failed compaction is reported, and the next run or compact retries it.
          await compactWithReport(deps, tty, passes).catch((err: unknown) =>
            deps.logger.error({ err }, 'compaction failed; the load is committed, the next run retries it'),
          );
        } finally {
          await passes.close();
        }
      });
    });

  program
    .command('compact')
    .description(
      'Rewrite closed hours that have more than one file into few large files sorted by project and time, then swap each partition to them atomically.',
    )
    .option('--from <hour>', 'compact these hours whether closed or not, from this UTC hour…', hourArgument)
    .option('--to <hour>', '…to this one (inclusive; default: --from)', hourArgument)
    .action(async (opts: { from?: number; to?: number }, command: Command) => {
      if (opts.to !== undefined && opts.from === undefined) command.error('error: --to needs --from');
      let hours: number[] | undefined;
      if (opts.from !== undefined) {
        const to = opts.to ?? opts.from;
        if (to < opts.from) throw new InputError('--to is before --from', { status: 400, code: 'bad_range' });
        hours = [];
        if (to - opts.from >= 24 * 31)
          throw new InputError('compact at most 744 hours at a time', { status: 400, code: 'bad_range' });
        for (let h = opts.from; h <= to; h++) hours.push(h);
      }
      await withDeps(command, async (deps, tty, config) =>
        compactWithReport(deps, tty, await openLoaderPasses(config, deps, { join: false }), hours),
      );
    });

  program
    .command('schedule')
    .description('Run on a cron schedule (UTC) until SIGTERM/SIGINT; a run in progress finishes first.')
    .option(
      '--cron <expression>',
      'cron expression, default from config ("5 * * * *": minute 5 of every hour)',
    )
    .option('--jitter <seconds>', 'random delay before each run', (v) => Number.parseInt(v, 10))
    .option('--now', 'also run once right away')
    .action(async (opts: { cron?: string; jitter?: number; now?: boolean }, command: Command) => {
      const { config } = await configOf(command);
      const schedule = {
        cron: opts.cron ?? config.schedule.cron,
        jitterSeconds: opts.jitter ?? config.schedule.jitterSeconds,
      };
      const { startLoader } = await import('./start.ts');
      const loader = await startLoader({ ...config, schedule });
      if (opts.now)
        await loader.runNow().catch((err: unknown) => loader.deps.logger.error({ err }, 'first run failed'));
      await stopOnSignals(() => loader.stop(), {
        logger: loader.deps.logger,
        stopping: 'stopping: waiting for a run in progress',
      });
    });

  program
    .command('replay')
    .description(
      'Re-load whole hours from the bus (offsets found by timestamp) into a new location, then swap each partition to it atomically and delete the old files.',
    )
    .requiredOption('--from <hour>', 'first UTC hour to replay, e.g. 2026-11-25T09', hourArgument)
    .requiredOption('--to <hour>', 'last UTC hour to replay (inclusive)', hourArgument)
    .addOption(
      new Option('--source <source>', 'read the bus, or the raw archive (for hours the bus no longer holds)')
        .choices(['kafka', 'archive'])
        .default('kafka'),
    )
    .option(
      '--allow-expired',
      'replay from the bus even when retention has deleted the start of the range (what is left replaces the hours)',
    )
    .action(
      async (
        opts: { from: number; to: number; source: 'kafka' | 'archive'; allowExpired?: boolean },
        command: Command,
      ) => {
        await withDeps(command, (deps, tty, config) => {
          if (config.scaleOut.enabled)
            throw new InputError(
              'replay does not run scaled out: it is bounded and repaired by a single loader\'s records, and a replay over per-slot records is not built yet (loader/README.md, "Scale-out")',
              { status: 400, code: 'replay_scaled_out' },
            );
          return runWithReport(deps, tty, (d) => replayHours(d, opts));
        });
      },
    );

  program
    .command('import')
    .description(
      'Load historical events from NDJSON (a Segment or RudderStack export, or our archive; .gz and .zst too) into the hours of their own time, dropping any already loaded.',
    )
    .argument('<source>', 'a local file or directory, or an object-store prefix')
    .option('--project <id>', 'the project of events that carry no projectId (an export)')
    .action(async (from: string, opts: { project?: string }, command: Command) => {
      await withDeps(command, (deps, tty, config) => {
        // Like a replay, an import works under the topic's lock, which scaled-out loads do not take.
        if (config.scaleOut.enabled)
          throw new InputError(
            'import does not run scaled out: it holds the topic\'s lock, not the slots\' (loader/README.md, "Scale-out")',
            { status: 400, code: 'import_scaled_out' },
          );
        return runWithReport(deps, tty, (d) =>
          importEvents(d, { from, ...(opts.project ? { project: opts.project } : {}) }),
        );
      });
    });

  program
    .command('status')
    .description('Lag per partition, the last loaded hour, the last run and who holds the lock.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const s = await readStatus((await configOf(command)).config);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${statusLines(s).join('\n')}\n`);
    });

  // Without a command: `--check`, or the help. With an action here, commander takes an unknown
  // command for an argument, so it is let through and refused by name. Set after the commands
  // are defined, which would otherwise inherit the leniency.
  program.allowExcessArguments().action(async (opts: { check?: boolean }, command: Command) => {
    const [word] = command.args;
    if (word !== undefined) command.error(`error: unknown command '${word}'`);
    if (!opts.check) command.help({ error: true });
    process.stdout.write(configForDisplay((await configOf(command)).shown));
  });

  return program;
}

/** The commands that load, and so commit; a failure of any other leaves nothing to commit. */
const LOADS = ['run', 'replay', 'import', 'schedule'];

export async function main(argv: string[]): Promise<number> {
  let ran: string | undefined;
  try {
    const cli = buildCli().hook('preAction', (_program, action) => {
      ran = action.name();
    });
    await cli.parseAsync(argv);
    return 0;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof LockBusyError) {
      process.stderr.write(`loader: ${message}\n`);
      return 75;
    }
    if (err instanceof InputError) {
      process.stderr.write(`loader: ${message}\n`);
      return 2;
    }
    // Only a load commits; `status` and `--check` only read, so "nothing was committed" would mislead there.
    const advice = LOADS.includes(ran ?? '') ? '\nNothing was committed; fix the cause and run again.' : '';
    process.stderr.write(`loader: failed: ${message}${advice}\n`);
    if (process.env.LOG_LEVEL === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv);
}

export { hourLabel };
