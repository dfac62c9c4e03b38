/**
 * @module Serving a fetch handler (a Hono app) on Node, the one place every
 * HTTP server of the project (edge, insights, the loader's control server)
 * is made: resolves once the port is bound (or rejects with the bind error,
 * EADDRINUSE), and closes gently.
 *
 * Slow clients are cut here, once (README, "Configuration", `http`): a
 * request must arrive whole, headers and body, within `requestTimeoutMs` of
 * its first byte (Node's requestTimeout covers a body trickled byte by byte,
 * as the tests check), its headers within `headersTimeoutMs`, and an idle
 * keep-alive connection closes after `keepAliveTimeoutMs`. Node's defaults
 * (5 minutes for a request) let a few hundred trickling sockets hold a
 * server's memory and file descriptors.
 *
 * What Node's HTTP parser refuses before any handler runs (malformed
 * framing, a Content-Length shorter than the body, headers over
 * `maxHeaderBytes`, a request past its deadline) is answered here with the
 * JSON envelope every service uses, `{"error": {"code", "message"}}`, where
 * a reply is still possible, and the socket is closed. Node's own answer has
 * no body, which clients and proxies log as an empty reply.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { z } from 'zod';
import { errorEnvelope } from './errors.ts';

/** The `http` settings of every server (edge, insights, control); all optional in a config file. */
export const httpServerSettingsSchema = z.strictObject({
  /** A request must arrive whole (headers and body) within this long of its first byte; else 408. */
  requestTimeoutMs: z.number().int().positive().default(10_000),
  /** Its headers within this long (at most requestTimeoutMs; the smaller of the two applies). */
  headersTimeoutMs: z.number().int().positive().default(10_000),
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: z.number().int().positive().default(5_000),
  /** Request line and headers together, in bytes; more is a 431. */
  maxHeaderBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024),
  /** Header fields in a request; more is a 431 (Node alone would drop the extra ones silently). */
  maxHeaders: z.number().int().positive().default(100),
});
export type HttpServerSettings = z.output<typeof httpServerSettingsSchema>;

export const DEFAULT_HTTP_SETTINGS: HttpServerSettings = httpServerSettingsSchema.parse({});

export interface NodeServer {
  url: string;
  port: number;
  /**
   * Stops accepting connections and lets requests in flight finish; idle
   * keep-alive sockets close at once, busy ones after `graceMs` (default: no limit).
   */
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  http?: Partial<HttpServerSettings> | undefined;
}

export async function listenOnNode(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions,
): Promise<NodeServer> {
  const settings = { ...DEFAULT_HTTP_SETTINGS, ...options.http };
  const requestTimeout = settings.requestTimeoutMs;
  const headersTimeout = Math.min(settings.headersTimeoutMs, requestTimeout);
  const honoListener = getRequestListener(fetch, { hostname: options.host });
  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      maxHeaderSize: settings.maxHeaderBytes,
      // Node checks the two timeouts only this often (30 s by default): a deadline is kept to a second.
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      // Checked below instead, so that the 400 carries the JSON body too.
      requireHostHeader: false,
    },
    (req, res) => {
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        refuse(res, 400, 'bad_request', 'An HTTP/1.1 request needs a Host header.');
        return;
      }
      if (req.rawHeaders.length / 2 > settings.maxHeaders) {
        refuse(res, 431, 'headers_too_large', `More than ${settings.maxHeaders} header fields.`);
        return;
      }
      void honoListener(req, res);
    },
  );
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  // One more than allowed, so the handler can tell "too many" from "exactly the limit".
  server.maxHeadersCount = settings.maxHeaders + 1;
  server.on('clientError', answerClientError);

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${bound}`,
    port: bound,
    close: (graceMs = Number.POSITIVE_INFINITY) =>
      new Promise<void>((done) => {
        const force = Number.isFinite(graceMs)
          ? setTimeout(() => server.closeAllConnections(), graceMs)
          : undefined;
        server.close(() => {
          clearTimeout(force);
          done();
        });
        server.closeIdleConnections();
      }),
  };
}

/** An answer from the handler's side (the request was parsed): JSON, then the connection closes. */
function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify(errorEnvelope(code, message));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

interface ClientErrorAnswer {
  status: number;
  reason: string;
  code: string;
  message: string;
}

/** Node's parser and timeout errors, as the statuses Node itself would send. */
function clientErrorAnswer(errorCode: string | undefined): ClientErrorAnswer {
  switch (errorCode) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        code: 'request_timeout',
        message: 'The request did not arrive whole in time; send it again.',
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        code: 'headers_too_large',
        message: 'The request line and headers are too large.',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        reason: 'Payload Too Large',
        code: 'payload_too_large',
        message: 'Chunk extensions are too large.',
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        code: 'bad_request',
        message: `The request is not valid HTTP/1.1 (${errorCode ?? 'parse error'}).`,
      };
  }
}

/**
 * Node's 'clientError': there is no response object, so the answer is
 * written to the socket as raw HTTP, then the socket is closed. Not when the
 * peer is gone (ECONNRESET) or the socket cannot be written. When a response
 * is in flight: if its request arrived whole, the bad bytes are the next
 * request's, so that response goes first and the error answer after it; if
 * not (a deadline passed mid-body), the error answer replaces it, unless it
 * has already started (writing then would corrupt it: the socket just closes).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return; // the parser reports every later chunk too
  answered.add(socket);
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // Node's own default handler reads the same field: the response in flight on this socket, if any.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  const answer = () => writeRawAnswer(socket, clientErrorAnswer(err.code));
  if (inFlight && !inFlight.writableFinished) {
    if (inFlight.req?.complete) {
      inFlight.once('finish', answer);
      inFlight.once('close', () => {
        if (!inFlight.writableFinished) socket.destroy();
      });
      return;
    }
    if (inFlight.headersSent) {
      socket.destroy();
      return;
    }
  }
  answer();
}

const answered = new WeakSet<Duplex>();

function writeRawAnswer(socket: Duplex, answer: ClientErrorAnswer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorEnvelope(answer.code, answer.message));
  const head = [
    `HTTP/1.1 ${answer.status} ${answer.reason}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
  // A peer that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}
