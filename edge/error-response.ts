/**
 * @module The one place that turns an error into an HTTP answer. Every answer
 * is JSON `{error: {code, message}}`; input errors keep their 4xx; a sink that
 * cannot take events answers 503 with Retry-After; anything unexpected is a
 * logged 500 without internals in the body.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorEnvelope, errorEnvelope, PipelineError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { retryAfterOf } from './edge-errors.ts';

/** The shared envelope (shared/errors.ts): what shared/node-server.ts answers for parser errors too. */
export type ErrorBody = ErrorEnvelope;

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: ErrorBody;
  headers: Record<string, string>;
}

export function errorBody(code: string, message: string): ErrorBody {
  return errorEnvelope(code, message);
}

export function describeError(err: unknown, logger: Logger): ErrorAnswer {
  if (err instanceof PipelineError) {
    const headers: Record<string, string> = {};
    const retryAfter = retryAfterOf(err);
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    if (err.status >= 500) logger.warn({ err, code: err.code }, 'request failed');
    return { status: err.status as ContentfulStatusCode, body: errorBody(err.code, err.message), headers };
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status >= 500 ? 'internal' : 'bad_request';
    return { status, body: errorBody(code, err.message || 'Request refused.'), headers: {} };
  }
  logger.error({ err }, 'unexpected error');
  return {
    status: 500,
    body: errorBody('internal', 'Internal error; the request can be retried.'),
    headers: {},
  };
}
