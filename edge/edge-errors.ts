/**
 * @module The edge's members of the shared error family: the ones whose
 * response carries a Retry-After header.
 */
import { InputError, PipelineError } from '../shared/errors.ts';

/** The write key sent more than its token bucket holds: a 429. */
export class RateLimitedError extends InputError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Rate limit exceeded for this write key; retry after ${retryAfterSeconds} s.`, {
      status: 429,
      code: 'rate_limited',
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The sink cannot make events durable now (spool full, shutting down, queue
 * down): a 503 the SDKs retry, never a silent loss.
 */
export class SinkUnavailableError extends PipelineError {
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { code: string; retryAfterSeconds: number; cause?: unknown }) {
    super(message, { status: 503, retriable: true, code: options.code, cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Seconds a client should wait, when the error says so. */
export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof RateLimitedError || err instanceof SinkUnavailableError) return err.retryAfterSeconds;
  return undefined;
}
