/**
 * @module Maps kafkajs errors to the bus port's BusError: one message that
 * says what failed and where, `retriable` set so the caller's retry policy
 * (the edge's spool, the loader's next run) can decide, the original as cause.
 */
import { BusError } from '../../errors.ts';

interface KafkaJsErrorLike {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
  originalError?: unknown;
  cause?: unknown;
}

/** Failures of the connection or of time, where trying again later can succeed. */
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
]);

/** The innermost error of a kafkajs chain (retries wrap the last attempt's error). */
function rootCause(error: KafkaJsErrorLike): KafkaJsErrorLike {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    const inner = (current.originalError ?? current.cause) as KafkaJsErrorLike | undefined;
    if (inner === undefined || inner === null || typeof inner !== 'object') break;
    current = inner;
  }
  return current;
}

export function toBusError(what: string, error: unknown, brokers: readonly string[]): BusError {
  if (error instanceof BusError) return error;
  const e = (
    typeof error === 'object' && error !== null ? error : { message: String(error) }
  ) as KafkaJsErrorLike;
  const root = rootCause(e);
  const transient = TRANSIENT.has(e.name ?? '') || TRANSIENT.has(root.name ?? '');
  const retriable = transient || root.retriable === true || e.retriable === true;
  const connection = /Connection|Broker|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|timed out/i.test(
    `${root.name} ${root.message} ${e.message}`,
  );
  let code = 'kafka_error';
  let status = 500;
  let detail = root.message ?? e.message ?? String(error);
  if (root.type === 'MESSAGE_TOO_LARGE' || root.type === 'RECORD_LIST_TOO_LARGE') {
    code = 'message_too_large';
    status = 413;
  } else if (root.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    code = 'unknown_topic';
  } else if (connection) {
    code = 'kafka_unavailable';
    status = 503;
    detail = `${detail} (is Kafka up at ${brokers.join(',')}?)`;
  }
  return new BusError(`Kafka: ${what} failed: ${detail}`, {
    retriable: retriable || code === 'kafka_unavailable',
    status,
    code,
    cause: error,
  });
}
