/**
 * @module The edge's side of the one error mapping (shared/runtime/error-answer.ts):
 * every answer is JSON `{error: {code, message}}`; input errors keep their
 * 4xx; a sink that cannot take events answers 503 with Retry-After; anything
 * unexpected is a logged 500 without internals in the body.
 */
import { type ErrorEnvelope, errorEnvelope } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { type ErrorAnswer, errorAnswer } from '../shared/runtime/error-answer.ts';
import { retryAfterOf } from './edge-errors.ts';

/** The shared envelope (shared/errors.ts): what shared/node-server.ts answers for parser errors too. */
export type ErrorBody = ErrorEnvelope;
export type { ErrorAnswer };

export function errorBody(code: string, message: string): ErrorBody {
  return errorEnvelope(code, message);
}

/** Rate limits and a full spool say when to come back. */
function retryAfterHeader(err: unknown): Record<string, string> {
  const retryAfter = retryAfterOf(err);
  return retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
}

export function describeError(err: unknown, logger: Logger): ErrorAnswer {
  return errorAnswer(err, logger, retryAfterHeader);
}
