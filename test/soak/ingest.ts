/**
 * @module Steady traffic to the edge at a target rate of events per second.
 * Paced open-loop: every tick it sends what the clock says is owed, so a slow
 * edge does not slow the offered load (a closed loop would hide exactly the
 * slowdown a soak looks for). Requests in flight are capped; when the cap
 * holds the sender back for more than a couple of seconds, the backlog is
 * dropped and counted (`shedEvents`) rather than sent in one burst later.
 *
 * An event is acknowledged when a 2xx answer does not list it in `rejected`
 * (edge/routes/collect.ts): those, and only those, must reach the warehouse.
 */
import type { RunInfo } from '../demo/one-machine.ts';
import type { RequestSource } from './soak-traffic.ts';

const TICK_MS = 20;
/** Owed events beyond this many seconds of traffic are shed, not sent late in a burst. */
const MAX_BACKLOG_SECONDS = 2;

export interface IngestOptions {
  run: RunInfo;
  source: RequestSource;
  /** Events per second. */
  rate: number;
  maxInFlight: number;
  /** A request with no answer by then is abandoned and counted as a transport error. */
  timeoutMs: number;
}

export interface IngestStats {
  acked: Set<string>;
  sentEvents: number;
  shedEvents: number;
  requests: number;
  /** HTTP status → requests. */
  statuses: Map<number, number>;
  /** Events a 2xx answer listed as rejected (invalid): the generator's or the edge's bug. */
  rejectedEvents: number;
  /** No answer: connection refused or reset, or the timeout. */
  transportErrors: number;
  firstError: string | null;
  /** Per answered request: [when (ms since the epoch), latency ms, events acknowledged]; tuples stay small over hours. */
  answers: [number, number, number][];
}

export interface RunningIngest {
  stats: IngestStats;
  /** Stops sending and waits for the requests in flight to be answered. */
  stop(): Promise<void>;
}

export function startIngest(options: IngestOptions): RunningIngest {
  const { run, source, rate, maxInFlight, timeoutMs } = options;
  const auth = `Basic ${Buffer.from(`${run.project.writeKey}:`).toString('base64')}`;
  const stats: IngestStats = {
    acked: new Set(),
    sentEvents: 0,
    shedEvents: 0,
    requests: 0,
    statuses: new Map(),
    rejectedEvents: 0,
    transportErrors: 0,
    firstError: null,
    answers: [],
  };
  const inFlight = new Set<Promise<void>>();
  const startedMs = Date.now();

  const send = async (nowMs: number) => {
    const request = source.next(nowMs);
    stats.sentEvents += request.messageIds.length;
    stats.requests++;
    const t0 = performance.now();
    try {
      const response = await fetch(`${run.edgeUrl}${request.path}`, {
        method: 'POST',
        headers: { ...request.headers, authorization: auth },
        body: request.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      const ms = performance.now() - t0;
      stats.statuses.set(response.status, (stats.statuses.get(response.status) ?? 0) + 1);
      if (!response.ok) {
        stats.answers.push([Date.now(), ms, 0]);
        stats.firstError ??= `${request.path} answered ${response.status}: ${text.slice(0, 300)}`;
        return;
      }
      const answer = JSON.parse(text) as { rejected?: { index: number }[] };
      const refused = new Set((answer.rejected ?? []).map((r) => r.index));
      stats.rejectedEvents += refused.size;
      request.messageIds.forEach((id, i) => {
        if (!refused.has(i)) stats.acked.add(id);
      });
      stats.answers.push([Date.now(), ms, request.messageIds.length - refused.size]);
    } catch (err) {
      stats.transportErrors++;
      stats.firstError ??= `${request.path}: ${(err as Error).message}`;
    }
  };

  const tick = () => {
    const nowMs = Date.now();
    const owed = (rate * (nowMs - startedMs)) / 1000 - stats.sentEvents - stats.shedEvents;
    if (owed > rate * MAX_BACKLOG_SECONDS) stats.shedEvents += Math.floor(owed - rate);
    while ((rate * (nowMs - startedMs)) / 1000 - stats.sentEvents - stats.shedEvents > 0) {
      if (inFlight.size >= maxInFlight) return;
      const p = send(nowMs);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  };
  const timer = setInterval(tick, TICK_MS);

  return {
    stats,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
