/**
 * @module JSON-lines logging (pino) for every service. One root logger per
 * process, made by the entry point and passed down; modules take children.
 * Keys and secrets in the usual fields (`writeKeys`, `relaySecret`, …, at the
 * top of a line or one level down) are logged only as fingerprints or `***`
 * (secret-display.ts), whatever a caller passes.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import { displayValue, REDACTED_LOG_PATHS } from './secret-display.ts';

export type { Logger };

export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    base: { service: name },
    redact: {
      paths: REDACTED_LOG_PATHS,
      censor: (value: unknown, path: string[]) => displayValue(path.at(-1) ?? '', value),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
