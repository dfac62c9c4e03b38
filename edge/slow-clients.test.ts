/**
 * The Node edge behind its real HTTP server (startEdge over the embedded
 * bus): a slow or malformed client is cut with a JSON answer, as on every
 * server of the project (shared/node-server.ts), with the deadlines of the
 * edge's `http` config.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLogBus, openLocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import { expectJsonError, parseResponses, rawExchange } from '../test/infra/raw-http.ts';
import { parseEdgeConfig } from './config.ts';
import { type EdgeHandle, startEdge } from './node.ts';

const KEY = 'wk_slow_0123456789';
let dir: string;
let bus: LocalLogBus;
let edge: EdgeHandle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-slow-'));
  bus = await openLocalLogBus({ dir: join(dir, 'bus'), fsync: 'never' });
  const config = parseEdgeConfig({
    port: 0,
    projects: [{ id: 'slow', writeKeys: [KEY] }],
    ipSalt: 'a-long-enough-salt',
    spool: { dir: join(dir, 'spool') },
    http: { requestTimeoutMs: 1500, headersTimeoutMs: 1000 },
  });
  edge = await startEdge(config, { bus, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await edge.close();
  await bus.close();
  await rm(dir, { recursive: true, force: true });
});

const auth = `Authorization: Basic ${btoa(`${KEY}:`)}\r\n`;

describe('the Node edge and slow or malformed clients', () => {
  it('answers a /v1/batch body trickled one byte per second with a JSON 408 at the deadline', async () => {
    const body = '{"batch":[{"type":"track","event":"E","anonymousId":"a"}]}';
    const head = `POST /v1/batch HTTP/1.1\r\nHost: edge\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const trickle = [...body].flatMap((ch) => [ch, 1000]);
    const { text, ms } = await rawExchange(edge.port, [head, ...trickle]);
    expect(ms).toBeLessThan(4000);
    expectJsonError(parseResponses(text)[0], 408, 'request_timeout');
  });

  it('answers 1,000 headers with a JSON 431 and a short Content-Length with a JSON 400', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const crowded = await rawExchange(edge.port, [`GET /healthz HTTP/1.1\r\nHost: edge\r\n${many}\r\n`]);
    expectJsonError(parseResponses(crowded.text)[0], 431, 'headers_too_large');

    const body = '{"type":"track","event":"E","anonymousId":"a"}';
    const lying = await rawExchange(edge.port, [
      `POST /v1/track HTTP/1.1\r\nHost: edge\r\n${auth}Content-Length: 5\r\n\r\n${body}`,
    ]);
    const responses = parseResponses(lying.text);
    // The 5 bytes are malformed JSON (the app's 400); the rest is no HTTP request (the server's 400).
    expect(responses.map((r) => r.status)).toEqual([400, 400]);
    expectJsonError(responses[0], 400, 'malformed_json');
    expectJsonError(responses[1], 400, 'bad_request');
  });
});
