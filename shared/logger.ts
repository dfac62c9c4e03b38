/**
 * @module JSON-lines logging (pino) for every service. One root logger per
 * process, made by the entry point and passed down; modules take children.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { service: name } });
}
