/**
 * @module A dashboard left open during the soak: every few seconds it
 * refreshes its panels at once, as the insights dashboard does (summary, a
 * timeseries, three top-N lists), with the project's read key, over a range
 * a person picks now and then (the last day, week or month). Answers from
 * the insights result cache count too (a real dashboard gets them), and the
 * `x-insights-cache` header tells them from the ones the engine computed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunInfo } from '../demo/one-machine.ts';
import { seededRandom } from '../demo/seeded-random.ts';

const RANGES_DAYS = [1, 7, 30] as const;

/** The panels: one request each per refresh, all at once. */
const PANELS: readonly (readonly [string, (days: number) => Record<string, string>])[] = [
  ['summary', () => ({})],
  ['timeseries', (days) => ({ interval: days === 1 ? 'hour' : 'day' })],
  ['top', () => ({ dimension: 'event' })],
  ['top', () => ({ dimension: 'page_path', event: '$pageview' })],
  ['top', () => ({ dimension: 'country' })],
];
/** Requests a refresh has in flight at once. */
export const DASHBOARD_PANELS = PANELS.length;
const HOUR_MS = 3_600_000;

export interface InsightsQuery {
  /** When it was answered (ms since the epoch). */
  atMs: number;
  endpoint: string;
  /** 0: no answer (refused, reset, timed out). */
  status: number;
  ms: number;
  cached: boolean;
}

export interface RunningDashboard {
  queries: InsightsQuery[];
  firstError: string | null;
  /** Stops refreshing and waits for a refresh in progress. */
  stop(): Promise<void>;
}

const hourText = (ms: number) =>
  `${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}:00Z`;

export function startDashboard(options: {
  run: RunInfo;
  seed: number;
  everyMs: number;
  timeoutMs: number;
}): RunningDashboard {
  const { run, everyMs, timeoutMs } = options;
  const rand = seededRandom(options.seed);
  const state: RunningDashboard = { queries: [], firstError: null, stop: async () => undefined };
  let days: number = RANGES_DAYS[0];

  const ask = async (endpoint: string, params: Record<string, string>) => {
    const t0 = performance.now();
    let status = 0;
    let cached = false;
    try {
      const response = await fetch(
        `${run.insightsUrl}/v1/insights/${endpoint}?${new URLSearchParams(params)}`,
        {
          headers: { authorization: `Bearer ${run.project.readKey}` },
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
      const body = await response.text();
      status = response.status;
      cached = response.headers.get('x-insights-cache') === 'hit';
      if (!response.ok) state.firstError ??= `${endpoint} answered ${status}: ${body.slice(0, 300)}`;
    } catch (err) {
      state.firstError ??= `${endpoint}: ${(err as Error).message}`;
    }
    state.queries.push({ atMs: Date.now(), endpoint, status, ms: performance.now() - t0, cached });
  };

  const refresh = async () => {
    // Now and then the person picks another range, as one does.
    if (rand.chance(0.2)) days = rand.pick(RANGES_DAYS);
    const now = Date.now();
    const range = { from: hourText(now - days * 24 * HOUR_MS), to: hourText(now + HOUR_MS) };
    await Promise.all(PANELS.map(([endpoint, params]) => ask(endpoint, { ...range, ...params(days) })));
  };

  // Aborting ends the wait between refreshes at once; a refresh in progress is awaited instead.
  const stopping = new AbortController();
  const loop = async () => {
    while (!stopping.signal.aborted) {
      const started = Date.now();
      await refresh();
      await sleep(Math.max(0, everyMs - (Date.now() - started)), undefined, {
        signal: stopping.signal,
      }).catch(() => undefined);
    }
  };
  const looping = loop();
  state.stop = async () => {
    stopping.abort();
    await looping;
  };
  return state;
}
