/**
 * @module What the soak prints: a progress line every ~10 s, then a summary
 * table split into the same thirds the verdict judges (warm-up, middle,
 * last), the checks with their numbers, and a one-line verdict. Text only,
 * so a run's output can be pasted into a README or an issue as it is.
 */
import type { InsightsQuery } from './dashboard.ts';
import type { IngestStats } from './ingest.ts';
import type { LoadRun, Sample } from './monitor.ts';
import { median, quantile, thirds } from './stats.ts';
import type { Verdict } from './verdict.ts';

const MB = 1024 * 1024;
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(0)}`);
const mb = (bytes: number) => (Number.isNaN(bytes) ? '–' : `${(bytes / MB).toFixed(0)} MB`);
const secondsOf = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(1)} s`);

export function progressLine(p: {
  elapsedMs: number;
  ingest: IngestStats;
  sample: Sample | undefined;
  /** Insights queries of the last minute or so. */
  recentQueries: readonly InsightsQuery[];
  lastLoad: LoadRun | undefined;
}): string {
  const p95 = quantile(
    p.recentQueries.map((q) => q.ms),
    0.95,
  );
  return [
    `[soak] ${Math.round(p.elapsedMs / 1000)}s`,
    `acked ${count(p.ingest.acked.size)}`,
    `loaded ${p.sample?.loaded == null ? '–' : count(p.sample.loaded)}`,
    `rss ${p.sample ? mb(p.sample.rssBytes) : '–'}`,
    `fds ${p.sample ? `${p.sample.fds} (${p.sample.sockets} sockets)` : '–'}`,
    `insights p95 ${ms(p95)} ms`,
    `last load ${p.lastLoad ? secondsOf(p.lastLoad.seconds) : '–'}`,
  ].join('  ');
}

export interface SoakRecord {
  settings: {
    durationMs: number;
    rate: number;
    seed: number;
    loadEverySeconds: number;
    sampleEveryMs: number;
  };
  startedMs: number;
  trafficEndMs: number;
  ingest: IngestStats;
  queries: readonly InsightsQuery[];
  samples: readonly Sample[];
  /** Scheduled loads seen during the traffic. */
  loads: readonly LoadRun[];
  finalLoad: LoadRun | null;
  warehouseRows: number;
  /** Stored though never acknowledged (requests that got no answer): allowed, at least once. */
  storedUnacked: number;
  disk: { busBytes: number; warehouseBytes: number };
  /** The first thing that went wrong, per part, for the reader to start from. */
  firstErrors: string[];
  dataDir: string;
  kept: boolean;
  verdict: Verdict;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** The windows of the table: bounded by the first sample of each third, as the verdict splits them. */
function windows(r: SoakRecord): [string, number, number][] {
  const [, middle, last] = thirds(r.samples);
  const b1 = middle[0]?.atMs ?? r.trafficEndMs;
  const b2 = last[0]?.atMs ?? r.trafficEndMs;
  return [
    ['warm-up', r.startedMs, b1],
    ['middle', b1, b2],
    ['last', b2, r.trafficEndMs + 1],
    ['whole', r.startedMs, r.trafficEndMs + 1],
  ];
}

function windowRow(r: SoakRecord, [name, from, to]: [string, number, number]): string[] {
  const within = (at: number) => at >= from && at < to;
  const answers = r.ingest.answers.filter(([at]) => within(at));
  const acked = answers.reduce((n, [, , events]) => n + events, 0);
  const queries = r.queries.filter((q) => within(q.atMs));
  const computed = queries.filter((q) => !q.cached).map((q) => q.ms);
  const loads = r.loads.filter((l) => within(Date.parse(l.finishedAt))).map((l) => l.seconds);
  const samples = r.samples.filter((s) => within(s.atMs));
  const seconds = (Math.min(to, r.trafficEndMs) - from) / 1000;
  const edge = answers.map(([, latency]) => latency);
  const insights = queries.map((q) => q.ms);
  return [
    name,
    `${Math.round((from - r.startedMs) / 1000)}–${Math.round((Math.min(to, r.trafficEndMs) - r.startedMs) / 1000)} s`,
    count(acked / Math.max(seconds, 1e-9)),
    `${ms(median(edge))} / ${ms(quantile(edge, 0.95))}`,
    `${ms(median(insights))} / ${ms(quantile(insights, 0.95))}`,
    `${ms(quantile(computed, 0.95))} (${computed.length})`,
    loads.length ? `${loads.length}: ${secondsOf(median(loads))} / ${secondsOf(Math.max(...loads))}` : '–',
    mb(median(samples.map((s) => s.rssBytes))),
    `${median(samples.map((s) => s.fds - s.sockets))} / ${median(samples.map((s) => s.sockets))}`,
  ];
}

export function summaryReport(r: SoakRecord): string {
  const { settings, ingest } = r;
  const seconds = (r.trafficEndMs - r.startedMs) / 1000;
  const statuses = [...ingest.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${count(n)}`);
  const lines = [
    '',
    `[soak] ${secondsOf(seconds)} of traffic at ${count(settings.rate)} ev/s offered (seed ${settings.seed}), loads every ${settings.loadEverySeconds} s, samples every ${secondsOf(settings.sampleEveryMs / 1000)}`,
    '',
    table([
      [
        'window',
        'time',
        'acked ev/s',
        'edge p50/p95 ms',
        'insights p50/p95 ms',
        'computed p95 ms (n)',
        'loads: median / max',
        'RSS median',
        'fds median: other / sockets',
      ],
      ...windows(r).map((w) => windowRow(r, w)),
    ]),
    '',
    `requests ${count(ingest.requests)} (${statuses.join(', ') || 'none answered'}), no answer ${ingest.transportErrors}; events sent ${count(ingest.sentEvents)}, shed ${count(ingest.shedEvents)} (sender behind), rejected ${ingest.rejectedEvents}`,
    `acknowledged ${count(ingest.acked.size)}; warehouse rows ${count(r.warehouseRows)} (stored but never acknowledged: ${r.storedUnacked}); insights queries ${count(r.queries.length)} (${r.queries.filter((q) => q.cached).length} from cache)`,
    `loads ${r.loads.length} during traffic + final ${r.finalLoad ? `${secondsOf(r.finalLoad.seconds)} (${count(r.finalLoad.events)} events)` : 'failed'}; disk: bus ${mb(r.disk.busBytes)}, warehouse ${mb(r.disk.warehouseBytes)}`,
    '',
    ...r.verdict.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`),
    ...(r.firstErrors.length ? ['', 'first errors:', ...r.firstErrors.map((e) => `  ${e}`)] : []),
    ...(r.kept ? ['', `data directory kept: ${r.dataDir}`] : []),
    '',
    verdictLine(r.verdict),
  ];
  return lines.join('\n');
}

function verdictLine(verdict: Verdict): string {
  const failed = verdict.checks.filter((c) => !c.ok).map((c) => c.name);
  return verdict.ok
    ? '[soak] PASS: every acknowledged event stored exactly once, no 5xx, RSS and descriptors flat'
    : `[soak] FAIL: ${failed.join('; ')}`;
}
