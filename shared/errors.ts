/**
 * @module The small typed family of errors the ports and services raise.
 * `retriable` tells the one place that decides retries whether trying again
 * can help; `status` is the HTTP status when the error reaches a client.
 */

export interface PipelineErrorOptions {
  retriable?: boolean;
  status?: number;
  cause?: unknown;
  code?: string;
}

export class PipelineError extends Error {
  readonly retriable: boolean;
  readonly status: number;
  readonly code: string;

  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.status = options.status ?? 500;
    this.code = options.code ?? 'internal';
  }
}

/** The bus could not take or give messages (broker down, log unwritable). */
export class BusError extends PipelineError {}
/** The object store failed, or a precondition (create-only put) did not hold. */
export class StoreError extends PipelineError {}
/** The catalog or query engine failed, or a query was invalid. */
export class CatalogError extends PipelineError {}
/** A client sent something we refuse: always a 4xx. */
export class InputError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions & { status: number; code: string }) {
    super(message, { ...options, retriable: false });
  }
}

/** The body of every HTTP error answer, from any service: `{"error": {"code", "message"}}`. */
export interface ErrorEnvelope {
  error: { code: string; message: string };
}

export function errorEnvelope(code: string, message: string): ErrorEnvelope {
  return { error: { code, message } };
}
