/**
 * @module The soak's requests: the demo's seeded visitors (test/demo/traffic.ts:
 * browsers, countries, referrers, page views, clicks, the sign-up funnel)
 * replayed now, in the shapes clients really send them. A browser's tracker
 * flushes a visit's events in batches of up to 20 (its flushAt); a server-side
 * SDK sends batches of 40–100 gathered from many visitors; some calls come one
 * event at a time through the short endpoints (/v1/track, /v1/page …).
 *
 * Every event gets a fresh messageId `soak<seed>-<n>` (n counts up), so the
 * final check can tell lost from duplicated and a failure names the event.
 * The same seed gives the same sequence of requests.
 */
import { seededRandom } from '../demo/seeded-random.ts';
import { type DemoSession, demoTraffic, type SegmentEvent } from '../demo/traffic.ts';

/** Share of requests by shape: mostly browser flushes, some single calls, a few large server batches. */
const SHAPES = [
  ['browser', 55],
  ['single', 30],
  ['server', 15],
] as const;
/** The browser tracker's default flushAt (edge/tracker/tracker.ts). */
const BROWSER_FLUSH_AT = 20;
const SERVER_BATCH = { min: 40, max: 100 } as const;

export interface SoakRequest {
  /** /v1/batch or /v1/<type>. */
  path: string;
  headers: Record<string, string>;
  body: string;
  messageIds: string[];
}

export interface RequestSource {
  /** The next request, its events stamped as sent at `nowMs`. */
  next(nowMs: number): SoakRequest;
}

export function soakRequests(seed: number): RequestSource {
  const rand = seededRandom(seed);
  // A fixed end, not now: the same seed replays the same visitors whatever the day.
  const sessions = demoTraffic({ seed, endMs: Date.UTC(2026, 0, 15), days: 2, sessionsPerDay: 400 });
  if (sessions.length === 0) throw new Error('the demo traffic generator gave no session');
  let n = 0;

  const stamp = (event: SegmentEvent, session: DemoSession, nowMs: number) => ({
    ...event,
    messageId: `soak${seed}-${n++}`,
    // A moment before sending, as a tracker queues events before it flushes them.
    timestamp: new Date(nowMs - rand.int(0, 3000)).toISOString(),
    context: { ...event.context, ip: session.ip },
  });
  const headersOf = (session: DemoSession) => ({
    'content-type': 'application/json',
    'user-agent': session.userAgent,
    'cf-ipcountry': session.country,
  });
  const batchRequest = (session: DemoSession, events: ReturnType<typeof stamp>[], nowMs: number) => ({
    path: '/v1/batch',
    headers: headersOf(session),
    body: JSON.stringify({ batch: events, sentAt: new Date(nowMs).toISOString() }),
    messageIds: events.map((e) => e.messageId),
  });

  return {
    next(nowMs) {
      const session = rand.pick(sessions);
      const shape = rand.weighted(SHAPES);
      if (shape === 'single') {
        const event = stamp(rand.pick(session.events), session, nowMs);
        return {
          path: `/v1/${event.type}`,
          headers: headersOf(session),
          body: JSON.stringify(event),
          messageIds: [event.messageId],
        };
      }
      if (shape === 'browser') {
        const start = rand.int(0, session.events.length - 1);
        const events = session.events.slice(start, start + rand.int(1, BROWSER_FLUSH_AT));
        return batchRequest(
          session,
          events.map((e) => stamp(e, session, nowMs)),
          nowMs,
        );
      }
      const size = rand.int(SERVER_BATCH.min, SERVER_BATCH.max);
      const events: ReturnType<typeof stamp>[] = [];
      while (events.length < size) {
        const other = rand.pick(sessions);
        events.push(stamp(rand.pick(other.events), other, nowMs));
      }
      return batchRequest(session, events, nowMs);
    },
  };
}
