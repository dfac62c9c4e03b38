/**
 * @module Pipeline step 1, parse: the request's bytes to a JSON value. The
 * body is parsed as JSON whatever the Content-Type says, because sendBeacon
 * posts `text/plain` (a JSON Blob would need a CORS preflight that
 * sendBeacon silently fails). Malformed JSON is a 400, too large a 413,
 * nested too deep a 400 (checked on the text, before JSON.parse); lone
 * surrogates are repaired to U+FFFD (json-guard.ts). Every route parses here,
 * so every path (batch, single events, pixel, beacon, gzip, relay, Worker)
 * gets the same guard.
 */
import { InputError } from '../../shared/errors.ts';
import { mayHoldLoneSurrogates, repairLoneSurrogates } from '../../shared/json-unicode.ts';
import { jsonTextDeeperThan, scanBatchText, tooDeep } from './json-guard.ts';
import { decodeContent, payloadTooLarge, readLimited } from './read-body.ts';

// Both options spelled out: Workers' types require them (fatal: false puts U+FFFD in place of bad bytes).
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
const DECIMAL = /^\d+$/;

export async function readRequestBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw payloadTooLarge(limit);
  if (declared !== null && DECIMAL.test(declared)) {
    // The HTTP framing bounds the body by the declared length, already checked: read it in
    // one go. On Node this skips the web stream @hono/node-server would otherwise build
    // around the request (a third of a small request's cost in the profile, edge/README.md).
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(await request.arrayBuffer());
    } catch {
      throw truncatedBody();
    }
    if (raw.byteLength > limit) throw payloadTooLarge(limit);
    return decodeContent(raw, request.headers.get('content-encoding') ?? undefined, limit);
  }
  if (!request.body) return new Uint8Array(0);
  // Compressed bytes are never larger than the decoded ones we allow.
  const raw = await readLimited(request.body, limit, () => truncatedBody());
  return decodeContent(raw, request.headers.get('content-encoding') ?? undefined, limit);
}

/**
 * Levels a body wraps its events in: `{"batch": [event]}` and the relay's
 * `{"events": [event]}`. A batch body may nest this much deeper than an event.
 */
export const ENVELOPE_DEPTH = 2;

/**
 * Parses JSON text whose events may nest `maxDepth` levels; `envelopeDepth` is
 * how deep the body holds its events (0: the body is the event).
 */
export function parseJson(bytes: Uint8Array, maxDepth: number, envelopeDepth = 0): unknown {
  const text = decodeNonEmpty(bytes);
  if (jsonTextDeeperThan(text, maxDepth + envelopeDepth)) throw tooDeep(maxDepth);
  return parseText(text);
}

/**
 * A `/v1/batch` body, parsed as parseJson does, with a bound on each event's
 * JSON size from the same scan (json-guard.ts, scanBatchText) for the
 * validate step's size check.
 */
export function parseBatchJson(
  bytes: Uint8Array,
  maxDepth: number,
): { body: unknown; eventBounds: number[] | undefined } {
  const text = decodeNonEmpty(bytes);
  const scan = scanBatchText(text, maxDepth + ENVELOPE_DEPTH);
  if (scan.tooDeep) throw tooDeep(maxDepth);
  return { body: parseText(text), eventBounds: scan.eventBounds };
}

function decodeNonEmpty(bytes: Uint8Array): string {
  const text = utf8.decode(bytes);
  if (text.trim() === '') throw new InputError('Request body is empty.', { status: 400, code: 'empty_body' });
  return text;
}

function parseText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`Request body is not valid JSON (${(err as Error).message}).`, {
      status: 400,
      code: 'malformed_json',
    });
  }
  return mayHoldLoneSurrogates(text) ? repairLoneSurrogates(value) : value;
}

/** The pixel's event: base64url JSON in the `data` query parameter. */
export function parsePixelData(data: string | undefined, maxEventBytes: number, maxDepth: number): unknown {
  if (!data) throw new InputError('Query parameter data is required.', { status: 400, code: 'missing_data' });
  // base64 grows bytes by 4/3; check before decoding anything.
  if (data.length > Math.ceil((maxEventBytes * 4) / 3) + 4) throw payloadTooLarge(maxEventBytes, 'Event');
  let binary: string;
  try {
    binary = atob(data.replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, ''));
  } catch {
    throw new InputError('Query parameter data is not base64url.', { status: 400, code: 'invalid_data' });
  }
  return parseJson(
    Uint8Array.from(binary, (ch) => ch.charCodeAt(0)),
    maxDepth,
  );
}

function truncatedBody(): InputError {
  return new InputError('Request body ended early.', { status: 400, code: 'incomplete_body' });
}
