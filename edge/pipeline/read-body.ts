/**
 * @module Reading a request body within a byte budget, decoding any
 * Content-Encoding on the way. Uses only web streams (DecompressionStream),
 * so the same code runs on Node and on Workers. The budget applies to the
 * decoded bytes: a 1 KB gzip bomb that inflates to 1 GB stops at the limit.
 */
import { InputError } from '../../shared/errors.ts';

export function payloadTooLarge(limit: number, what = 'Request body'): InputError {
  return new InputError(`${what} is larger than ${limit} bytes; send smaller batches.`, {
    status: 413,
    code: 'payload_too_large',
  });
}

/** Reads a stream to the end, failing with 413 as soon as it passes `limit` bytes. */
export async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  onError: (err: unknown) => InputError = () => invalidEncoding(),
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        throw onError(err);
      }
      if (step.done) break;
      total += step.value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw payloadTooLarge(limit);
      }
      chunks.push(step.value);
    }
  } finally {
    reader.releaseLock();
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function invalidEncoding(): InputError {
  return new InputError('Body does not match its Content-Encoding.', {
    status: 400,
    code: 'invalid_encoding',
  });
}

/** What DecompressionStream takes on Node and Workers alike (the DOM's CompressionFormat is not in Workers' types). */
type DecodeFormat = 'gzip' | 'deflate' | 'deflate-raw';

const FORMATS: Record<string, DecodeFormat[]> = {
  gzip: ['gzip'],
  'x-gzip': ['gzip'],
  // HTTP's "deflate" is zlib-wrapped, but some clients send raw deflate.
  deflate: ['deflate', 'deflate-raw'],
};

/** Decodes `encoding` (a Content-Encoding value) within `limit` decoded bytes. */
export async function decodeContent(raw: Uint8Array, encoding: string | undefined, limit: number) {
  const codings = (encoding ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  let bytes = raw;
  // Codings are listed in the order they were applied: undo them in reverse.
  for (const coding of codings.reverse()) {
    const formats = FORMATS[coding];
    if (!formats) {
      throw new InputError(`Content-Encoding ${coding} is not supported; use gzip or deflate.`, {
        status: 415,
        code: 'unsupported_encoding',
      });
    }
    bytes = await decompressAny(bytes, formats, limit);
  }
  if (bytes.byteLength > limit) throw payloadTooLarge(limit);
  return bytes;
}

async function decompressAny(bytes: Uint8Array, formats: DecodeFormat[], limit: number) {
  let last: InputError = invalidEncoding();
  for (const format of formats) {
    try {
      return await decompress(bytes, format, limit);
    } catch (err) {
      if (!(err instanceof InputError) || err.status === 413) throw err;
      last = err;
    }
  }
  throw last;
}

function decompress(bytes: Uint8Array, format: DecodeFormat, limit: number): Promise<Uint8Array> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const inflated = source.pipeThrough(
    new DecompressionStream(format) as ReadableWritablePair<Uint8Array, Uint8Array>,
  );
  return readLimited(inflated, limit);
}
