/**
 * @module How an entry (`npm start`, `edge/node.ts`, `insights/node.ts`) ends
 * when it fails: a mistake the operator fixes (a ConfigError, or whatever the
 * entry's `userError` recognises, such as a port in use) prints its message,
 * not a stack trace, and exits with CONFIG_EXIT_CODE (2); anything else prints
 * its stack and exits 1. Each line starts with the entry's name.
 */
import { CONFIG_EXIT_CODE, ConfigError } from '../config/config-error.ts';

/** The message of a ConfigError; null for anything else. */
function configErrorMessage(err: unknown): string | null {
  return err instanceof ConfigError ? err.message : null;
}

export function runEntry(
  name: string,
  main: () => Promise<void>,
  userError: (err: unknown) => string | null = configErrorMessage,
): void {
  main().catch((err: unknown) => {
    const message = userError(err);
    const detail = message ?? (err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.stderr.write(`${name}: ${detail}\n`);
    process.exit(message === null ? 1 : CONFIG_EXIT_CODE);
  });
}
