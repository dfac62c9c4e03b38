/**
 * @module The soak's sampler: every few seconds, the one-machine process's
 * RSS and open descriptors (process-probe.ts) and the loader's progress
 * through its control API (`GET /v1/loader/status`): events loaded so far
 * (the offsets it committed) and its last run, so every load's duration is
 * seen (loads come every several seconds, samples more often).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunInfo } from '../demo/one-machine.ts';
import { type ResourceSample, readResources } from './process-probe.ts';

export interface Sample extends ResourceSample {
  /** ms since the epoch. */
  atMs: number;
  /** Events the loader has committed (loaded) so far; null when the status call failed. */
  loaded: number | null;
}

export interface LoadRun {
  runId: string;
  finishedAt: string;
  ok: boolean;
  seconds: number;
  events: number;
  duplicates: number;
  error?: string;
}

/** The part of loader/status.ts's LoaderStatus the soak reads. */
interface LoaderStatusAnswer {
  partitions: { committed: number | null }[];
  lastRun: LoadRun | null;
}

export interface RunningMonitor {
  samples: Sample[];
  /** runId → the run, in the order first seen. */
  loads: Map<string, LoadRun>;
  /** Status calls that failed (a 5xx or no answer). */
  statusErrors: number;
  firstError: string | null;
  /** Takes one more sample now (outside the cadence) and returns it. */
  sampleNow(): Promise<Sample>;
  stop(): Promise<void>;
}

export function startMonitor(options: { pid: number; run: RunInfo; everyMs: number }): RunningMonitor {
  const { pid, run, everyMs } = options;
  const monitor: RunningMonitor = {
    samples: [],
    loads: new Map(),
    statusErrors: 0,
    firstError: null,
    sampleNow: async () => {
      const [resources, loaded] = await Promise.all([readResources(pid), loaderProgress()]);
      const sample = { atMs: Date.now(), ...resources, loaded };
      monitor.samples.push(sample);
      return sample;
    },
    stop: async () => undefined,
  };

  async function loaderProgress(): Promise<number | null> {
    try {
      const response = await fetch(`${run.controlUrl}/v1/loader/status`, {
        headers: { authorization: `Bearer ${run.controlToken}` },
        signal: AbortSignal.timeout(30_000),
      });
      if (!response.ok)
        throw new Error(`answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      const status = (await response.json()) as LoaderStatusAnswer;
      const last = status.lastRun;
      if (last && !monitor.loads.has(last.runId)) monitor.loads.set(last.runId, last);
      return status.partitions.reduce((sum, p) => sum + (p.committed ?? 0), 0);
    } catch (err) {
      monitor.statusErrors++;
      monitor.firstError ??= `loader status: ${(err as Error).message}`;
      return null;
    }
  }

  const stopping = new AbortController();
  const loop = async () => {
    while (!stopping.signal.aborted) {
      await sleep(everyMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) break;
      // The process is gone (/proc has no entry): nothing more to sample; the soak notices the exit.
      await monitor.sampleNow().catch((err: unknown) => {
        monitor.firstError ??= `sampling pid ${pid}: ${(err as Error).message}`;
        stopping.abort();
      });
    }
  };
  const looping = loop();
  monitor.stop = async () => {
    stopping.abort();
    await looping;
  };
  return monitor;
}
