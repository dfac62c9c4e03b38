/**
 * @module The soak's judgement, a pure function of what it saw: every check
 * with its numbers, so the verdict explains itself. Resources are judged on
 * medians of the last third of the samples against the middle third: the
 * first third is warm-up (caches, DuckDB's buffer pool, V8's heap and the
 * HTTP connection pools growing to their working size), and medians ignore
 * the spike of a load in progress.
 */
import type { Sample } from './monitor.ts';
import { median, thirds } from './stats.ts';

export interface Thresholds {
  /** RSS growth (last third's median over the middle third's) fails only when above both bounds. */
  rssGrowthBytes: number;
  rssGrowthRatio: number;
  /** Descriptors other than sockets (files, pipes, event fds) the last third's median may add to the middle third's. */
  fdGrowth: number;
  /** Sockets at most, in every sample after the warm-up: what the soak's own clients can hold open, plus a margin. */
  socketCeiling: number;
  /** Resource samples each third needs for the comparison to mean anything. */
  minSamplesPerThird: number;
}

export interface Evidence {
  samples: readonly Sample[];
  acked: number;
  /** Acknowledged, not in the warehouse (a few of them, to name). */
  missing: readonly string[];
  missingCount: number;
  /** In the warehouse more than once: id and rows (a few of them). */
  duplicated: readonly (readonly [string, number])[];
  duplicatedCount: number;
  /** 5xx answers from the edge, insights and the loader's control API. */
  serverErrors: number;
  /** Other failed requests: 4xx (the traffic is valid and under the rate limit), no answer, rejected events. */
  otherFailures: number;
  failedLoads: number;
  /** The process's exit code after SIGTERM (0: it drained and closed cleanly). */
  exitCode: number | null;
  /** The summary endpoint's event count after the final load, and the warehouse's rows. */
  apiEvents: number | null;
  warehouseRows: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface ThirdMedians {
  rssBytes: number;
  /** Descriptors other than sockets. */
  otherFds: number;
  samples: number;
  /** The most sockets of any sample (not a median: a ceiling is judged). */
  maxSockets: number;
}

export interface ResourceTrend {
  middle: ThirdMedians;
  last: ThirdMedians;
}

export interface Verdict {
  ok: boolean;
  checks: Check[];
  trend: ResourceTrend;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

/** Medians of RSS and descriptors over the middle and the last third of the samples. */
function resourceTrend(samples: readonly Sample[]): ResourceTrend {
  const [, middle, last] = thirds(samples);
  const of = (part: readonly Sample[]): ThirdMedians => ({
    rssBytes: median(part.map((s) => s.rssBytes)),
    otherFds: median(part.map((s) => s.fds - s.sockets)),
    samples: part.length,
    maxSockets: Math.max(0, ...part.map((s) => s.sockets)),
  });
  return { middle: of(middle), last: of(last) };
}

export function judge(evidence: Evidence, thresholds: Thresholds): Verdict {
  const trend = resourceTrend(evidence.samples);
  const { middle, last } = trend;
  const enough = Math.min(middle.samples, last.samples) >= thresholds.minSamplesPerThird;
  const rssGrowth = last.rssBytes - middle.rssBytes;
  const rssRatio = rssGrowth / middle.rssBytes;
  const rssFlat = rssGrowth <= thresholds.rssGrowthBytes || rssRatio <= thresholds.rssGrowthRatio;
  const fdGrowth = last.otherFds - middle.otherFds;
  const maxSockets = Math.max(middle.maxSockets, last.maxSockets);
  const some = <T>(items: readonly T[], show: (item: T) => string) =>
    items.length ? `: ${items.slice(0, 5).map(show).join(', ')}${items.length > 5 ? ', …' : ''}` : '';

  const checks: Check[] = [
    {
      name: 'nothing lost',
      ok: evidence.missingCount === 0 && evidence.acked > 0,
      detail: `${evidence.missingCount} of ${evidence.acked} acknowledged events missing${some(evidence.missing, String)}`,
    },
    {
      name: 'nothing duplicated',
      ok: evidence.duplicatedCount === 0,
      detail: `${evidence.duplicatedCount} events stored more than once${some(evidence.duplicated, ([id, n]) => `${id} ×${n}`)}`,
    },
    { name: 'no 5xx', ok: evidence.serverErrors === 0, detail: `${evidence.serverErrors} answers 5xx` },
    {
      name: 'no other failed request',
      ok: evidence.otherFailures === 0,
      detail: `${evidence.otherFailures} (4xx, rejected events, no answer)`,
    },
    { name: 'every load ok', ok: evidence.failedLoads === 0, detail: `${evidence.failedLoads} failed loads` },
    {
      name: 'API agrees with the warehouse',
      ok: evidence.apiEvents === evidence.warehouseRows,
      detail: `summary says ${evidence.apiEvents ?? 'nothing'}, warehouse holds ${evidence.warehouseRows}`,
    },
    {
      name: 'clean stop',
      ok: evidence.exitCode === 0,
      detail: `exit code ${evidence.exitCode} after SIGTERM`,
    },
    {
      name: 'enough samples',
      ok: enough,
      detail: `${middle.samples} and ${last.samples} in the middle and last thirds (need ${thresholds.minSamplesPerThird})`,
    },
    {
      name: 'RSS flat',
      ok: enough && rssFlat,
      detail: `median ${mb(middle.rssBytes)} → ${mb(last.rssBytes)} (${rssGrowth >= 0 ? '+' : ''}${mb(rssGrowth)}, ${(rssRatio * 100).toFixed(1)} %; fails above ${mb(thresholds.rssGrowthBytes)} and ${(thresholds.rssGrowthRatio * 100).toFixed(0)} %)`,
    },
    {
      name: 'fds flat',
      ok: enough && fdGrowth <= thresholds.fdGrowth,
      detail: `median of files, pipes and event fds ${middle.otherFds} → ${last.otherFds} (${fdGrowth >= 0 ? '+' : ''}${fdGrowth}; fails above +${thresholds.fdGrowth})`,
    },
    {
      name: 'sockets bounded',
      ok: enough && maxSockets <= thresholds.socketCeiling,
      detail: `at most ${maxSockets} after the warm-up (fails above ${thresholds.socketCeiling}: listeners plus what the soak's clients can hold open)`,
    },
  ];
  return { ok: checks.every((c) => c.ok), checks, trend };
}
