/**
 * @module How every Node service of the project (the edge, insights, the
 * loader's `schedule`, the one-machine process) stops, so they behave alike
 * for the operator (shared/runtime/README.md): the first SIGINT/SIGTERM runs
 * the caller's orderly `stop` (it drains); a second one exits at once with
 * 130. Exiting without waiting is safe by design: everything acknowledged is
 * durable (bus or spool) and a load cut short is repaired by the next one
 * (docs/guarantees.md).
 */
import type { Logger } from '../logger.ts';

/** Ctrl-C under `npm start` arrives twice at once (the terminal's, and npm forwarding its own): one press. */
const SAME_PRESS_MS = 1000;
/** After a clean stop the process should exit by itself; a handle someone forgot must not keep it up for ever. */
const EXIT_BACKSTOP_MS = 5000;

export interface StopOnSignalsOptions {
  logger: Logger;
  /** Logged with the first signal: what the stop waits for. */
  stopping?: string;
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM and resolves when it is done
 * (`process.exitCode` 0; rejects, exit code 1, when it failed). A later
 * signal exits at once with 130. Once stopped the process exits when its
 * event loop is empty, or after a few seconds if a stray handle holds it.
 */
export function stopOnSignals(stop: () => Promise<void>, options: StopOnSignalsOptions): Promise<void> {
  const { logger } = options;
  let firstSignalAt = 0;
  return new Promise((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstSignalAt) {
        if (Date.now() - firstSignalAt < SAME_PRESS_MS) return;
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      firstSignalAt = Date.now();
      logger.info({ signal }, options.stopping ?? 'stopping');
      stop().then(
        () => {
          logger.info('stopped cleanly');
          process.exitCode = 0;
          setTimeout(() => process.exit(), EXIT_BACKSTOP_MS).unref();
          resolve();
        },
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          process.exitCode = 1;
          setTimeout(() => process.exit(), EXIT_BACKSTOP_MS).unref();
          reject(err);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
