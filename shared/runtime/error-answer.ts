/**
 * @module The one mapping from an error to an HTTP answer, for every service
 * (edge on Node and on Workers, insights, the loader's control server): the
 * JSON envelope `{"error": {"code", "message"}}` of shared/errors.ts. A 5xx
 * never carries an unexpected error's own message, which may name files,
 * hosts or SQL. No Node built-ins here: the Worker imports it too.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorEnvelope, errorEnvelope, PipelineError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: ErrorEnvelope;
  headers: Record<string, string>;
}

/**
 * The answer to an error that reached a route: a PipelineError keeps its
 * status, code and message (it was written for the client); Hono's own
 * HTTPException (bearer auth, body limits) keeps its status; anything else is
 * a logged 500 whose message says only that the request can be retried.
 * `headersOf` adds headers a service derives from its errors (Retry-After).
 */
export function errorAnswer(
  err: unknown,
  logger: Logger,
  headersOf: (err: unknown) => Record<string, string> = () => ({}),
): ErrorAnswer {
  if (err instanceof PipelineError) {
    if (err.status >= 500) logger.warn({ err, code: err.code }, 'request failed');
    return {
      status: err.status as ContentfulStatusCode,
      body: errorEnvelope(err.code, err.message),
      headers: headersOf(err),
    };
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status === 401 ? 'unauthorized' : status >= 500 ? 'internal' : 'bad_request';
    // Hono's bearer auth says how to authenticate in WWW-Authenticate: keep it, in our body.
    const challenge = err.getResponse().headers.get('www-authenticate');
    return {
      status,
      body: errorEnvelope(code, err.message || 'Request refused.'),
      headers: challenge ? { 'www-authenticate': challenge } : {},
    };
  }
  logger.error({ err }, 'unexpected error');
  return {
    status: 500,
    body: errorEnvelope('internal', 'Internal error; the request can be retried.'),
    headers: {},
  };
}
