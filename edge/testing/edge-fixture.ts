/**
 * @module One fixture for the edge's unit tests: an app over a MemorySink,
 * a clock that only moves when told, two projects, and request builders.
 */
import { pino } from 'pino';
import { createApp } from '../app.ts';
import type { EdgeDeps } from '../deps.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { noopMetrics } from '../metrics.ts';
import { createStaticRegistry, type Project } from '../project-registry.ts';
import { MemorySink } from '../sink/memory-sink.ts';

export const SHOP: Project = {
  id: 'proj_shop',
  writeKeys: ['wk_shop_0123456789'],
  readKeys: ['rk_shop_0123456789'],
  allowedOrigins: ['https://shop.example'],
  rateLimit: { perSecond: 10, burst: 50 },
};
/** Opted in to every browser origin (`*`): CORS is by explicit grant only. */
export const OPEN: Project = {
  id: 'proj_open',
  writeKeys: ['wk_open_0123456789'],
  readKeys: [],
  allowedOrigins: ['*'],
};
export const SHOP_KEY = SHOP.writeKeys[0]!;
export const OPEN_KEY = OPEN.writeKeys[0]!;
export const RELAY_SECRET = 'relay-secret-for-tests-0123456789';
export const START_MS = Date.parse('2026-03-01T12:00:00.000Z');

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function makeEdge(overrides: Partial<EdgeDeps> = {}) {
  let now = START_MS;
  const clock: ManualClock = {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
  const sink = new MemorySink();
  let ids = 0;
  const deps: EdgeDeps = {
    projects: createStaticRegistry([SHOP, OPEN]),
    sink,
    clock,
    limits: DEFAULT_LIMITS,
    metrics: noopMetrics,
    logger: pino({ level: 'silent' }),
    ipSalt: 'salt-for-tests',
    relaySecret: RELAY_SECRET,
    countryHeader: 'cf-ipcountry',
    clientIp: (c) => c.req.header('x-test-ip'),
    newMessageId: () => `generated-${++ids}`,
    ...overrides,
  };
  const app = createApp(deps);
  return { app, sink, clock, deps };
}

export function basic(writeKey: string): string {
  return `Basic ${btoa(`${writeKey}:`)}`;
}

export function track(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'track',
    event: 'Order Completed',
    userId: 'user-1',
    messageId: `m-${Math.abs(hashOf(JSON.stringify(overrides)))}`,
    timestamp: '2026-03-01T11:59:59.000Z',
    properties: { total: 42 },
    ...overrides,
  };
}

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://edge.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A browser's CORS preflight for a JSON POST to `path` from `origin`. */
export function preflight(origin: string, path = '/v1/batch'): Request {
  return new Request(`http://edge.test${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
}

export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
