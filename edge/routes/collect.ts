/**
 * @module The collection endpoints: Segment's long and short paths and the
 * pixel, all running the same named steps: parse → authenticate → (origin,
 * rate limit) → validate → enrich → produce. A 2xx means every accepted
 * event is durable; rejected events are listed with index and reason.
 */
import type { Context, Hono } from 'hono';
import { InputError } from '../../shared/errors.ts';
import type { EventType } from '../../shared/event.ts';
import { EVENT_TYPES } from '../../shared/event.ts';
import { GRANT_HEADER_NAMES, provisionalCorsHeaders, requestCorsHeaders } from '../cors.ts';
import type { EdgeDeps, EdgeEnv } from '../deps.ts';
import { RateLimitedError } from '../edge-errors.ts';
import { errorBody } from '../error-response.ts';
import { authenticate, isRecord } from '../pipeline/authenticate.ts';
import { createBotJudge } from '../pipeline/bot-agent.ts';
import { countryFrom, type EnrichDeps, enrichEvents } from '../pipeline/enrich-events.ts';
import { createIpHasher } from '../pipeline/ip-hash.ts';
import { parseBatchJson, parseJson, parsePixelData, readRequestBytes } from '../pipeline/parse-body.ts';
import { produce } from '../pipeline/produce.ts';
import { createUserAgentParser } from '../pipeline/user-agent.ts';
import { type EndpointKind, validateEvents } from '../pipeline/validate-events.ts';
import { createRateLimiter } from '../rate-limit.ts';

/** analytics.js posts to one-letter paths; a 404 there drops browser events for good. */
const SHORT_PATHS: Record<EventType, string> = {
  track: 't',
  page: 'p',
  screen: 's',
  identify: 'i',
  group: 'g',
  alias: 'a',
};

/** A transparent 1x1 GIF. */
const PIXEL = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (c) =>
  c.charCodeAt(0),
);

export function registerCollectRoutes(app: Hono<EdgeEnv>, deps: EdgeDeps): void {
  const limiter = createRateLimiter({ clock: deps.clock, maxKeys: deps.limits.rateLimitKeys });
  const enrichDeps: EnrichDeps = {
    parseUserAgent: createUserAgentParser(),
    isBot: createBotJudge(),
    hashIp: createIpHasher(deps.ipSalt),
    newMessageId: deps.newMessageId ?? (() => crypto.randomUUID()),
  };

  async function collect(
    c: Context<EdgeEnv>,
    kind: EndpointKind,
    body: unknown,
    bodyBytes: number,
    eventBounds?: number[],
  ) {
    const receivedAtMs = deps.clock.now();
    const { project, writeKey } = authenticate(deps.projects, {
      authorization: c.req.header('authorization'),
      queryWriteKey: c.req.query('writeKey'),
      body,
    });

    const cors = requestCorsHeaders(c.req.header('origin'), project);
    if (!cors) {
      // Another project's origins granted the provisional headers; this project refuses.
      for (const name of GRANT_HEADER_NAMES) c.header(name, undefined);
      throw new InputError('This origin is not allowed for the project; add it to allowedOrigins.', {
        status: 403,
        code: 'origin_not_allowed',
      });
    }
    // From here on, errors carry the project's CORS headers, so a browser can read them.
    setHeaders(c, cors);

    const sent = kind === 'batch' && isRecord(body) && Array.isArray(body.batch) ? body.batch.length : 1;
    const decision = limiter.take(writeKey, project.rateLimit ?? deps.limits.defaultRateLimit, sent);
    if (!decision.allowed) {
      deps.metrics.eventsRejected('rate_limited', sent);
      throw new RateLimitedError(decision.retryAfterSeconds);
    }

    const batch = validateEvents(body, kind, {
      maxEventBytes: deps.limits.maxEventBytes,
      bodyBytes,
      eventBounds,
    });
    for (const r of batch.rejected) deps.metrics.eventsRejected(r.reason, 1);
    if (batch.events.length === 0) {
      return c.json(
        { ...errorBody('invalid_events', 'No event in the request is valid.'), rejected: batch.rejected },
        400,
      );
    }

    const ip = deps.clientIp(c);
    const events = await enrichEvents(
      batch.events,
      {
        projectId: project.id,
        receivedAtMs,
        ...(ip ? { ipHash: await enrichDeps.hashIp(ip) } : {}),
        ...optional('country', countryFrom(c.req.header(deps.countryHeader))),
        ...optional('userAgent', c.req.header('user-agent')),
        ...optional('sentAt', batch.sentAt),
      },
      enrichDeps,
    );
    await produce(deps.sink, events);
    deps.metrics.eventsAccepted(events.length);
    return { accepted: events.length, rejected: batch.rejected };
  }

  /** Before the body is read: a 413 or a malformed body must reach the page too (cors.ts). */
  function grantProvisionally(c: Context<EdgeEnv>) {
    setHeaders(c, provisionalCorsHeaders(c.req.header('origin'), deps.projects));
  }

  function post(path: string, kind: EndpointKind) {
    app.post(path, async (c) => {
      c.set('route', kind);
      grantProvisionally(c);
      const bytes = await readRequestBytes(c.req.raw, deps.limits.maxBatchBytes);
      // A batch holds its events two levels down; a single-event body is the event.
      const { body, eventBounds } =
        kind === 'batch'
          ? parseBatchJson(bytes, deps.limits.maxDepth)
          : { body: parseJson(bytes, deps.limits.maxDepth), eventBounds: undefined };
      const outcome = await collect(c, kind, body, bytes.byteLength, eventBounds);
      if (outcome instanceof Response) return outcome;
      return c.json({ success: true, ...outcome });
    });
  }

  post('/v1/batch', 'batch');
  post('/v1/b', 'batch');
  for (const type of EVENT_TYPES) {
    post(`/v1/${type}`, type);
    post(`/v1/${SHORT_PATHS[type]}`, type);
  }

  app.get('/v1/p.gif', async (c) => {
    c.set('route', 'pixel');
    // A HEAD (link checkers, prefetchers) must not count as an event.
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'image/gif' });
    grantProvisionally(c);
    const body = parsePixelData(c.req.query('data'), deps.limits.maxEventBytes, deps.limits.maxDepth);
    const type =
      isRecord(body) && EVENT_TYPES.includes(body.type as EventType) ? (body.type as EventType) : 'track';
    // The decoded size is unknown here: force the per-event size check.
    const outcome = await collect(c, type, body, deps.limits.maxEventBytes + 1);
    if (outcome instanceof Response) return outcome;
    return c.body(PIXEL, 200, { 'content-type': 'image/gif', 'cache-control': 'no-store, max-age=0' });
  });
}

function setHeaders(c: Context<EdgeEnv>, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
