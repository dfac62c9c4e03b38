/**
 * @module `loader run`: one pass over the closed offset ranges, through the
 * shared load routine (load.ts), finished by register → rollups → commit.
 * Exactly once: the commit (steps/commit.ts) is the last step, file names
 * derive from offsets, and repair.ts settles whatever a crash left.
 */
import { CompactionQueue } from './compaction/compaction-queue.ts';
import { type Hour, hourLabel } from './layout.ts';
import { load, recordedLoad } from './load.ts';
import { crashIfAt, type LoaderDeps, layoutOf, stateNameOf } from './loader-deps.ts';
import type { RunResult } from './loader-state.ts';
import { rollupsOfLoad } from './scale-out/deferred-rollups.ts';
import { commitOffsets } from './steps/commit.ts';
import { planRanges } from './steps/plan.ts';
import { ensureTables, registerHours } from './steps/register.ts';

export interface RunOptions {
  /** Load nothing received after this hour; the rest waits for the next run. */
  until?: Hour;
}

export async function runOnce(deps: LoaderDeps, options: RunOptions = {}): Promise<RunResult> {
  return recordedLoad(deps, 'run', 'run', [], async ({ state, result, lock }) => {
    const locate = state.eventsLocations();
    await load(deps, state, result, {
      command: 'run',
      ranges: () => planRanges(deps, state),
      ...(options.until !== undefined ? { until: options.until } : {}),
      target: locate,
      locate,
      manifestExtras: async (consumed) => ({ ends: consumed.ends }),
      async finish({ duckdb, steps, consumed, hours }) {
        steps.enter('register');
        await ensureTables(deps);
        await registerHours(deps, 'events', hours, locate);
        crashIfAt(deps, 'after-register');
        steps.enter('rollups');
        // Scaled out, hours whose rollup lock stayed busy are recorded for the slot's next load.
        const deferred = await rollupsOfLoad(
          deps,
          duckdb,
          [...hours].sort((a, b) => a - b),
          locate,
        );
        if (deferred.length > 0) result.deferredRollups = deferred.map(hourLabel);
        crashIfAt(deps, 'after-rollups');
        steps.enter('commit');
        // Queued before the commit point, so every committed file's hour is a compaction candidate.
        await new CompactionQueue(deps.store, layoutOf(deps), stateNameOf(deps)).add(hours);
        // Fencing: if our lease was lost (expired while this process stalled), another loader may be
        // at work; renew() then throws and nothing is committed.
        await lock.renew();
        await commitOffsets(deps, state, result.runId, consumed.ends);
        crashIfAt(deps, 'after-commit');
        result.hours = [...hours].sort((a, b) => a - b).map(hourLabel);
        result.committed = consumed.ends;
        const last = [...consumed.hours].sort((a, b) => b - a)[0];
        if (last !== undefined) {
          const previous = (await state.hoursLoaded())?.lastHour ?? '';
          if (hourLabel(last) > previous) await state.writeHoursLoaded({ lastHour: hourLabel(last) });
        }
      },
    });
  });
}
