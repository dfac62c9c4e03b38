/**
 * @module How a run reports itself: a progress bar on a terminal
 * (cli-progress), JSON log lines otherwise; and in both cases one summary
 * line at the end.
 */
import cliProgress from 'cli-progress';
import type { Logger } from '../shared/logger.ts';
import type { LoadProgress } from './loader-deps.ts';
import type { RunResult } from './loader-state.ts';

export function terminalProgress(stream: NodeJS.WriteStream): LoadProgress & { stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {step} [{bar}] {percentage}% | {value}/{total} messages | {eta_formatted} left',
      stream,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let step = 'plan';
  return {
    step(name) {
      step = name;
      if (started) bar.update({ step });
    },
    consumed(done, total) {
      if (!started) {
        bar.start(Math.max(total, 1), 0, { step });
        started = true;
      }
      bar.update(done, { step });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * In a log, a load is one summary line (written by the caller): steps are
 * debug, and only a load that consumes for longer than 5 s says how far it
 * got, every 5 s at most (a log is not a progress bar).
 */
export function logProgress(logger: Logger): LoadProgress {
  let lastLog = Date.now();
  return {
    step(name) {
      logger.debug({ step: name }, `step ${name}`);
    },
    consumed(done, total) {
      const now = Date.now();
      if (now - lastLog >= 5000 && done < total) {
        lastLog = now;
        logger.info({ consumed: done, total }, 'consuming');
      }
    },
  };
}

/** The one line each run ends with. */
export function summaryLine(result: RunResult): string {
  const mb = (result.bytes / 1e6).toFixed(1);
  return `${result.command} ${result.ok ? 'ok' : 'FAILED'}: ${result.events} events, ${result.duplicates} duplicates dropped, ${result.malformed} malformed, ${result.files} files, ${mb} MB, ${result.seconds.toFixed(1)} s${result.hours.length ? ` (hours ${result.hours[0]}..${result.hours.at(-1)})` : ''}${result.deferredRollups?.length ? `; rollups of ${result.deferredRollups.join(', ')} left to the next load` : ''}`;
}
