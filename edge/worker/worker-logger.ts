/**
 * @module The Worker's logger: pino's browser build, which writes each line
 * as one object to `console` (Workers Logs keeps it as structured JSON).
 * The Node build cannot run here (it writes to file descriptors through
 * sonic-boom), but both give the same `Logger`, so the shared app logs the
 * same way on either runtime.
 */
import pino from 'pino/browser.js';
import type { Logger } from '../../shared/logger.ts';

export function createWorkerLogger(level: string): Logger {
  return pino({ level, browser: { asObject: true, serialize: true } }).child({ service: 'edge-worker' });
}
