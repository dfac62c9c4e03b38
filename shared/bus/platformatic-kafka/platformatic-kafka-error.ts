/**
 * @module Maps @platformatic/kafka errors to the bus port's BusError, as
 * kafka-error.ts does for kafkajs: one message that says what failed and
 * where, `retriable` for the caller's retry policy, the original as cause.
 *
 * The client nests its errors: retries end in a MultipleErrors whose
 * `errors` are the attempts, and a broker answer with error codes is a
 * ResponseError whose `errors` are ProtocolErrors carrying the Kafka error
 * name (`apiId`) and whether Kafka marks it retriable (`canRetry`).
 */
import { BusError } from '../../errors.ts';

interface PlatformaticErrorLike {
  name?: string;
  code?: string;
  message?: string;
  apiId?: string;
  canRetry?: boolean;
  errors?: unknown[];
  cause?: unknown;
}

/** Every error in the tree (the error, its causes, and the errors it aggregates). */
function errorTree(error: unknown): PlatformaticErrorLike[] {
  const out: PlatformaticErrorLike[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 8 || e === null || typeof e !== 'object') return;
    const err = e as PlatformaticErrorLike;
    out.push(err);
    for (const inner of Array.isArray(err.errors) ? err.errors : []) visit(inner, depth + 1);
    visit(err.cause, depth + 1);
  };
  visit(error, 0);
  return out;
}

/** True when the tree holds a broker error with one of these Kafka names (e.g. TOPIC_ALREADY_EXISTS). */
export function hasKafkaError(error: unknown, ...apiIds: string[]): boolean {
  return errorTree(error).some((e) => e.apiId !== undefined && apiIds.includes(e.apiId));
}

/** Transport failures: the broker is not there or did not answer in time. */
const TRANSPORT = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

export function toBusErrorFromPlatformatic(
  what: string,
  error: unknown,
  brokers: readonly string[],
): BusError {
  if (error instanceof BusError) return error;
  const tree = errorTree(error);
  const top = tree[0] ?? { message: String(error) };
  // The most specific message: a broker's error name, else the innermost error.
  const protocol = tree.find((e) => e.apiId !== undefined);
  const innermost = tree.at(-1) ?? top;
  const transport = tree.some(
    (e) =>
      TRANSPORT.has(e.code ?? '') ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|timed out|Connection closed/i.test(
        e.message ?? '',
      ),
  );
  let code = 'kafka_error';
  let status = 500;
  let detail = protocol ? `${protocol.apiId}: ${protocol.message}` : (innermost.message ?? String(error));
  if (hasKafkaError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE')) {
    code = 'message_too_large';
    status = 413;
  } else if (hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID')) {
    code = 'unknown_topic';
  } else if (hasKafkaError(error, 'OFFSET_OUT_OF_RANGE')) {
    code = 'offset_out_of_range';
  } else if (transport) {
    code = 'kafka_unavailable';
    status = 503;
    detail = `${innermost.message ?? top.message} (is Kafka up at ${brokers.join(',')}?)`;
  }
  const retriable = code === 'kafka_unavailable' || (protocol?.canRetry === true && code !== 'unknown_topic');
  return new BusError(`Kafka: ${what} failed: ${detail}`, { retriable, status, code, cause: error });
}
