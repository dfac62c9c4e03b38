/**
 * Every HTTP server's defences against slow and malformed clients
 * (node-server.ts), over raw TCP: deadlines cut a trickled body and stalled
 * headers with a 408, idle keep-alive sockets close, and what Node's parser
 * refuses (a short Content-Length, too many or too large headers, no Host) is
 * answered with the JSON envelope, not an empty reply.
 */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { expectJsonError, parseResponses, rawExchange } from '../test/infra/raw-http.ts';
import { listenOnNode, type NodeServer } from './node-server.ts';

/** An app that reads the whole body before answering, as the edge does. */
function echoApp() {
  const app = new Hono();
  app.post('/echo', async (c) => c.json({ bytes: (await c.req.text()).length }));
  app.get('/', (c) => c.json({ ok: true }));
  return app;
}

let server: NodeServer | undefined;
afterEach(async () => {
  await server?.close(0);
  server = undefined;
});

const start = async (http: Parameters<typeof listenOnNode>[1]['http'] = {}) => {
  server = await listenOnNode(echoApp().fetch, { host: '127.0.0.1', port: 0, http });
  return server.port;
};

describe('deadlines', () => {
  it('cuts a body trickled one byte per second at requestTimeoutMs with a JSON 408', async () => {
    const port = await start({ requestTimeoutMs: 1500, headersTimeoutMs: 1000 });
    const head =
      'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n';
    const trickle = Array.from({ length: 20 }, () => ['x', 1000]).flat();
    const { text, ms } = await rawExchange(port, [head, ...trickle]);
    expect(ms).toBeLessThan(4000);
    const [response] = parseResponses(text);
    expectJsonError(response, 408, 'request_timeout');
  });

  it('cuts headers that never end at headersTimeoutMs with a JSON 408', async () => {
    const port = await start({ requestTimeoutMs: 3000, headersTimeoutMs: 800 });
    const { text, ms } = await rawExchange(port, ['GET / HTTP/1.1\r\nHost: t\r\n', 500, 'X-A: 1\r\n']);
    expect(ms).toBeLessThan(2500);
    expectJsonError(parseResponses(text)[0], 408, 'request_timeout');
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const port = await start({ keepAliveTimeoutMs: 500 });
    const { text, ms } = await rawExchange(port, ['GET / HTTP/1.1\r\nHost: t\r\n\r\n']);
    const [response] = parseResponses(text);
    expect(response?.status).toBe(200);
    expect(response?.headers.connection).toBe('keep-alive');
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3000);
  });

  it('defaults to 10 s for a request and 5 s of keep-alive', async () => {
    await start();
    const { DEFAULT_HTTP_SETTINGS } = await import('./node-server.ts');
    expect(DEFAULT_HTTP_SETTINGS).toMatchObject({
      requestTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
    });
  });
});

describe("what Node's parser refuses is a JSON answer", () => {
  it('answers a Content-Length shorter than the body with a JSON 400 for the leftover bytes', async () => {
    const port = await start();
    const body = '{"type":"track","event":"E"}';
    const { text } = await rawExchange(port, [
      `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n${body}`,
    ]);
    const responses = parseResponses(text);
    expect(responses.at(-1)?.status).toBe(400);
    expectJsonError(responses.at(-1), 400, 'bad_request');
    for (const r of responses) expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers 1,000 headers with a JSON 431, and takes exactly maxHeaders', async () => {
    const port = await start();
    const many = Array.from({ length: 1000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const { text } = await rawExchange(port, [`GET / HTTP/1.1\r\nHost: t\r\n${many}\r\n`]);
    expectJsonError(parseResponses(text)[0], 431, 'headers_too_large');

    // Host plus 99 more: exactly the default 100.
    const enough = Array.from({ length: 99 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const fine = await rawExchange(port, [`GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${enough}\r\n`]);
    // Connection: close is one more header: 101 fields, refused; without it, accepted.
    expect(parseResponses(fine.text)[0]?.status).toBe(431);
    const exact = await rawExchange(port, [`GET / HTTP/1.0\r\nHost: t\r\n${enough}\r\n`]);
    expect(parseResponses(exact.text)[0]?.status).toBe(200);
  });

  it('answers headers over maxHeaderBytes with a JSON 431', async () => {
    const port = await start({ maxHeaderBytes: 4096 });
    const { text } = await rawExchange(port, [
      `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
    ]);
    expectJsonError(parseResponses(text)[0], 431, 'headers_too_large');
  });

  it('answers garbage and a missing Host with a JSON 400', async () => {
    const port = await start();
    const garbage = await rawExchange(port, ['NOT HTTP AT ALL\r\n\r\n']);
    expectJsonError(parseResponses(garbage.text)[0], 400, 'bad_request');
    const noHost = await rawExchange(port, ['GET / HTTP/1.1\r\n\r\n']);
    expectJsonError(parseResponses(noHost.text)[0], 400, 'bad_request');
  });
});
