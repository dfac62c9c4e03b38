/**
 * @module `npm run soak`: steady traffic through the real one-machine process
 * (`node start.ts` as a child, on free ports and a temporary data directory)
 * for a while, then proof that nothing leaked and nothing was lost.
 *
 * While it runs: the edge gets seeded, realistic traffic at `--rate` events/s
 * (soak-traffic.ts), the loader loads on its own cron schedule every
 * `--load-every` seconds (croner takes a six-field cron, seconds first), a
 * dashboard refreshes its panels with the read key (dashboard.ts), and a
 * sampler reads the process's RSS and open descriptors from /proc and the
 * loader's progress from its control API (monitor.ts). At the end: traffic
 * stops, a final load runs, the process stops with SIGTERM, and the embedded
 * warehouse is read back: every acknowledged messageId must be there once.
 *
 * Thresholds (THRESHOLDS below), and why:
 *
 * - RSS: the median of the last third of the samples may exceed the median
 *   of the middle third (the first third is warm-up) by 64 MB or by 25 %,
 *   whichever is larger; more fails. A healthy Node + DuckDB process wanders
 *   by tens of MB (V8 grows its heap lazily and returns pages late, DuckDB's
 *   buffer pool grows to the largest load or query, malloc arenas keep freed
 *   memory), so a tighter bound would fail healthy runs. What this catches
 *   depends on the length: the two medians are a third of the run apart, so
 *   a leak shows as (leak rate × duration / 3). Five minutes catch a leak of
 *   about 40 MB/min (keeping every event's body would be ~35 MB/min at 600
 *   ev/s); two hours catch about 1.6 MB/min (keeping every messageId).
 * - Descriptors other than sockets (files, pipes, event fds): the last
 *   third's median may exceed the middle third's by 8. The steady set is
 *   small and constant (one open segment per bus partition, the log, libuv's
 *   and DuckDB's pipes and event fds: 27 in a real run); a load adds a few
 *   temporary files while it runs, and the median absorbs them. One
 *   descriptor leaked per load (4 a minute at 15 s) passes 8 within minutes.
 * - Sockets are judged apart, against a ceiling, because their count follows
 *   the soak's own clients rather than the process's health: keep-alive
 *   connections open when requests pile up (a load holds the CPU) and close
 *   when idle, so a median of them swings by ten between thirds of a healthy
 *   run. No sample after the warm-up may hold more than the 3 listening
 *   sockets, every connection the clients can have at once and 8 spare; a
 *   connection the server never closes piles up past that.
 * - Events: zero lost (acknowledged, not in the warehouse) and zero
 *   duplicated (a messageId stored twice); that is the pipeline's contract.
 * - Requests: zero 5xx from the edge, insights or the control API, and zero
 *   other failures (a 4xx, an event rejected, a request with no answer): the
 *   traffic is valid and far below the demo project's rate limit (5,000/s),
 *   so any of them is a bug in the pipeline or in the soak.
 * - Every load succeeds, the summary API counts what the warehouse holds,
 *   and the process stops cleanly (exit code 0 after SIGTERM).
 *
 * The default rate (600 events/s, about 40 requests/s) is what the 2-core
 * machine shared with other work sustains with room to spare: the edge
 * answers in a few ms, loads take a few seconds, and nothing is shed.
 *
 * Over 300 lines: the soak's driver, whose phases share one child process
 * and its samples; traffic, sampling, report and verdict already live beside
 * it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { type LoadResult, requestLoad } from '../demo/one-machine.ts';
import {
  askInsights,
  logTail,
  removeDir,
  startOnTestPorts,
  tempDataDir,
  warehouseMessageCounts,
} from '../e2e/one-machine-fixture.ts';
import { DASHBOARD_PANELS, startDashboard } from './dashboard.ts';
import { startIngest } from './ingest.ts';
import { type LoadRun, startMonitor } from './monitor.ts';
import { dirBytes } from './process-probe.ts';
import { progressLine, type SoakRecord, summaryReport } from './report.ts';
import { soakRequests } from './soak-traffic.ts';
import { judge, type Thresholds, type Verdict } from './verdict.ts';

/** Requests in flight at most; at 600 ev/s and a few ms each, a handful are (dozens while a load holds the CPU). */
const MAX_IN_FLIGHT = 32;
const REQUEST_TIMEOUT_MS = 30_000;
/** A dashboard's auto-refresh. */
const DASHBOARD_EVERY_MS = 5_000;

export const THRESHOLDS: Thresholds = {
  rssGrowthBytes: 64 * 1024 * 1024,
  rssGrowthRatio: 0.25,
  fdGrowth: 8,
  // 3 listening sockets, the edge and dashboard clients at their most, the sampler and the final load, 8 spare.
  socketCeiling: 3 + MAX_IN_FLIGHT + DASHBOARD_PANELS + 2 + 8,
  // Fewer, and one odd sample (a load's peak) moves a median.
  minSamplesPerThird: 5,
};

export const DEFAULTS = {
  durationMs: 5 * 60_000,
  rate: 600,
  seed: 1,
  loadEverySeconds: 15,
} as const;

const PROGRESS_EVERY_MS = 10_000;
const HOUR_MS = 3_600_000;

export interface SoakOptions {
  durationMs: number;
  /** Events per second offered to the edge. */
  rate: number;
  seed: number;
  /** The loader's cron runs every this many seconds (1–59). */
  loadEverySeconds: number;
  /** Keep the data directory even when the soak passes (it is always kept when it fails). */
  keepData?: boolean;
  /** Where progress lines go (default stdout). */
  log?: (line: string) => void;
  thresholds?: Thresholds;
}

export interface SoakResult {
  verdict: Verdict;
  /** The summary table, the checks and the verdict line, as printed. */
  summary: string;
  record: SoakRecord;
}

/** Enough samples for the thirds even in a one-minute soak, no more than one per 5 s in a long one. */
export function sampleEveryMs(durationMs: number): number {
  return Math.min(5_000, Math.max(1_000, Math.floor(durationMs / 45)));
}

const hourText = (ms: number) =>
  `${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}:00Z`;

const asLoadRun = (result: LoadResult): LoadRun => ({
  runId: 'final',
  finishedAt: new Date().toISOString(),
  ok: result.ok,
  seconds: result.seconds,
  events: result.events,
  duplicates: result.duplicates,
});

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { durationMs, rate, seed, loadEverySeconds } = options;
  if (!Number.isInteger(loadEverySeconds) || loadEverySeconds < 1 || loadEverySeconds > 59)
    throw new RangeError('loadEverySeconds must be a whole number of seconds from 1 to 59');
  const everyMs = sampleEveryMs(durationMs);
  const dataDir = await tempDataDir('soak');
  // The fixture starts it with loads off; a later --loader-cron wins (the last value of a flag counts).
  const proc = await startOnTestPorts(dataDir, {
    args: ['--loader-cron', `*/${loadEverySeconds} * * * * *`],
  });
  const { run } = proc;
  let kept = false;
  try {
    log(
      `[soak] pid ${run.pid}, data ${dataDir}, loader cron "${run.loaderCron}"; ${Math.round(durationMs / 1000)} s at ${rate} ev/s`,
    );
    const startedMs = Date.now();
    const monitor = startMonitor({ pid: run.pid, run, everyMs });
    const ingest = startIngest({
      run,
      source: soakRequests(seed),
      rate,
      maxInFlight: MAX_IN_FLIGHT,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const dashboard = startDashboard({
      run,
      seed,
      everyMs: DASHBOARD_EVERY_MS,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const progress = setInterval(() => {
      const now = Date.now();
      log(
        progressLine({
          elapsedMs: now - startedMs,
          ingest: ingest.stats,
          sample: monitor.samples.at(-1),
          recentQueries: dashboard.queries.filter((q) => q.atMs > now - 60_000),
          lastLoad: [...monitor.loads.values()].at(-1),
        }),
      );
    }, PROGRESS_EVERY_MS);

    // The whole duration, unless the process dies first (then everything after fails, as it should).
    const died = await Promise.race([sleep(durationMs).then(() => false), proc.exited.then(() => true)]);
    clearInterval(progress);
    await ingest.stop();
    const trafficEndMs = Date.now();
    await Promise.all([dashboard.stop(), monitor.stop()]);
    if (died)
      log(`[soak] the process exited during the soak; last lines of its log:\n${await logTail(proc)}`);

    let finalLoad: LoadRun | null = null;
    const firstErrors = [ingest.stats.firstError, dashboard.firstError, monitor.firstError].filter(
      (e): e is string => e !== null,
    );
    if (!died) {
      finalLoad = await requestLoad(run).then(asLoadRun, (err: unknown) => {
        firstErrors.push(`final load: ${(err as Error).message}`);
        return null;
      });
    }
    // A range no dashboard refresh asked for (they start whole days before the current hour), so the
    // answer is computed now, not taken from the result cache of a minute ago.
    const apiEvents = died
      ? null
      : await askInsights<{ current: { events: number } }>(run, 'summary', {
          from: hourText(startedMs - 7 * HOUR_MS),
          to: hourText(Date.now() + HOUR_MS),
          // Every acknowledged event, crawlers' too.
          bots: 'include',
        }).then(
          (answer) => answer.current.events,
          (err: unknown) => {
            firstErrors.push(`final summary: ${(err as Error).message}`);
            return null;
          },
        );
    const exitCode = await proc.stop();
    if (exitCode !== 0) firstErrors.push(`exit code ${exitCode}; last lines:\n${await logTail(proc, 20)}`);

    const counts = await warehouseMessageCounts(dataDir);
    const acked = ingest.stats.acked;
    const missing = [...acked].filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, n]) => n > 1);
    const storedUnacked = [...counts.keys()].filter((id) => !acked.has(id)).length;
    const warehouseRows = [...counts.values()].reduce((a, b) => a + b, 0);
    const loads = [...monitor.loads.values()];
    const statuses = [...ingest.stats.statuses];
    const queries = dashboard.queries;
    const verdict = judge(
      {
        samples: monitor.samples,
        acked: acked.size,
        missing: missing.slice(0, 5),
        missingCount: missing.length,
        duplicated: duplicated.slice(0, 5),
        duplicatedCount: duplicated.length,
        serverErrors:
          statuses.filter(([s]) => s >= 500).reduce((n, [, k]) => n + k, 0) +
          queries.filter((q) => q.status >= 500).length,
        otherFailures:
          statuses.filter(([s]) => s >= 300 && s < 500).reduce((n, [, k]) => n + k, 0) +
          ingest.stats.transportErrors +
          ingest.stats.rejectedEvents +
          queries.filter((q) => q.status < 200 || (q.status >= 300 && q.status < 500)).length +
          monitor.statusErrors,
        failedLoads: loads.filter((l) => !l.ok).length + (died || finalLoad ? 0 : 1),
        exitCode,
        apiEvents,
        warehouseRows,
      },
      options.thresholds ?? THRESHOLDS,
    );
    kept = Boolean(options.keepData) || !verdict.ok;
    const record: SoakRecord = {
      settings: { durationMs, rate, seed, loadEverySeconds, sampleEveryMs: everyMs },
      startedMs,
      trafficEndMs,
      ingest: ingest.stats,
      queries,
      samples: monitor.samples,
      loads,
      finalLoad,
      warehouseRows,
      storedUnacked,
      disk: {
        busBytes: await dirBytes(`${dataDir}/bus`),
        warehouseBytes: await dirBytes(`${dataDir}/warehouse`),
      },
      firstErrors,
      dataDir,
      kept,
      verdict,
    };
    const summary = summaryReport(record);
    log(summary);
    return { verdict, summary, record };
  } catch (err) {
    // The soak itself broke (not the verdict): what the process left behind is the evidence.
    kept = true;
    log(`[soak] aborted: ${(err as Error).message}; data directory kept: ${dataDir}`);
    throw err;
  } finally {
    await proc.kill();
    if (!kept) await removeDir(dataDir);
  }
}

// ---------------------------------------------------------------- command line

/** 90, 90s, 10m, 2h, 1500ms → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 60s, 10m or 2h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command('soak')
    .description(
      'Steady traffic through the one-machine process, then checks that every acknowledged event was loaded exactly once and that memory and open descriptors stayed flat.',
    )
    .option('--duration <d>', 'how long traffic runs: 60s, 10m, 2h', parseDuration, DEFAULTS.durationMs)
    .option('--rate <n>', 'events per second offered to the edge', positiveInt, DEFAULTS.rate)
    .option('--seed <n>', 'seed of the traffic and the dashboard', positiveInt, DEFAULTS.seed)
    .option(
      '--load-every <d>',
      'the loader cron runs every this long (1s–59s)',
      (text) => parseDuration(text) / 1000,
      DEFAULTS.loadEverySeconds,
    )
    .option('--keep', 'keep the data directory even when the soak passes')
    .parse(argv)
    .opts<{ duration: number; rate: number; seed: number; loadEvery: number; keep?: boolean }>();
  const result = await runSoak({
    durationMs: opts.duration,
    rate: opts.rate,
    seed: opts.seed,
    loadEverySeconds: opts.loadEvery,
    keepData: Boolean(opts.keep),
  });
  process.exitCode = result.verdict.ok ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(err instanceof RangeError ? 2 : 1);
  });
}
