/// <reference lib="dom" />
/**
 * @module The browser tracker: Segment-spec events (`track`, `page`, `identify`) batched
 * to the edge's `POST /v1/batch`. Import `createTracker` from here, or load the script-tag
 * bundle (`/t.js`, built from auto-init.ts). Every byte here ships to every visitor: the
 * gzipped bundle must stay under 3 KB (serve.test.ts fails the build otherwise).
 *
 * Bodies are always strings, so browsers send `Content-Type: text/plain;charset=UTF-8`: a
 * "simple" request that needs no CORS preflight. A JSON content type would need one, and
 * a preflight cannot finish while the page unloads, so the last beacon would be lost.
 *
 * Over 300 lines: it ships to every browser as one module whose gzipped size
 * is budgeted; splitting it would not make the bundle smaller.
 */

/** Keep in step with package.json (tracker.test.ts checks). */
export const VERSION = '0.1.0';

type Props = Record<string, unknown>;
type TrackerEvent = Props & { messageId: string };

/** Only what the tracker touches, so `window` fits as is and tests can hand in a small fake. */
export interface TrackerWindow {
  location: { href: string; pathname: string; search: string };
  document: {
    title: string;
    referrer: string;
    cookie: string;
    visibilityState: string;
    addEventListener(type: string, listener: () => void): void;
  };
  navigator: {
    userAgent: string;
    language: string;
    onLine: boolean;
    doNotTrack?: string | null;
    sendBeacon?(url: string, data: string): boolean;
  };
  screen?: { width: number; height: number };
  devicePixelRatio?: number;
  localStorage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  crypto?: { randomUUID?(): string; getRandomValues(array: Uint8Array): Uint8Array };
  fetch(
    url: string,
    init: { method: string; body: string },
  ): Promise<{ status: number; headers: { get(name: string): string | null } }>;
  addEventListener(type: string, listener: () => void): void;
  history?: { pushState(...args: unknown[]): void };
}

export interface TrackerOptions {
  /** The edge's origin, e.g. `https://edge.example.com`. */
  host: string;
  writeKey: string;
  /** Send as soon as this many events wait (default 20). */
  flushAt?: number;
  /** Otherwise send this long after the first waiting event, in ms (default 5000). */
  flushInterval?: number;
  /** Events kept for later while offline or failing; the oldest go first (default 500). */
  maxQueue?: number;
  /** Failed sends retried with backoff before waiting for the next event or page (default 10). */
  maxRetries?: number;
  /** A session ends after this much inactivity, in ms (default 30 minutes). */
  sessionTimeout?: number;
  /** Send nothing when the browser says Do Not Track (`navigator.doNotTrack === '1'`). */
  respectDnt?: boolean;
  /** Single-page apps: a page view on every `history.pushState` and `popstate` to another URL. */
  spa?: boolean;
  /** The browser globals; defaults to `window`. */
  window?: TrackerWindow;
}

export interface Tracker {
  track(event: string, properties?: Props): void;
  /** `page()`, `page(name)`, `page(properties)` or `page(name, properties)`. */
  page(name?: string | Props, properties?: Props): void;
  /** `identify(userId, traits?)` or `identify(traits)` for traits of the current user. */
  identify(userId?: string | Props, traits?: Props): void;
  /** Forget the user (log out): new anonymous id, no user id, new session. */
  reset(): void;
  /** Stop tracking in this browser (persisted), forget the stored ids and drop what waits to be sent. */
  optOut(): void;
  optIn(): void;
  /** Send what waits now; resolves when that request is answered. */
  flush(): Promise<void>;
}

const AID = 'bth_aid';
const UID = 'bth_uid';
const SID = 'bth_sid';
const OPT = 'bth_optout';
// Under the edge's 500 KB batch limit; a beacon shares a 64 KB quota with every pending one.
const FETCH_BYTES = 450_000;
const BEACON_BYTES = 60_000;

export function createTracker(options: TrackerOptions): Tracker {
  const w = options.window ?? (window as TrackerWindow);
  const nav = w.navigator;
  const doc = w.document;
  const flushAt = options.flushAt ?? 20;
  const flushInterval = options.flushInterval ?? 5000;
  const maxQueue = options.maxQueue ?? 500;
  const maxRetries = options.maxRetries ?? 10;
  const sessionTimeout = options.sessionTimeout ?? 1_800_000;
  const url = `${options.host.replace(/\/+$/, '')}/v1/batch`;
  // One queue per write key: a batch carries a single key.
  const queueKey = `bth_q_${options.writeKey}`;

  // localStorage first; a cookie when it is missing or refuses (Safari private mode,
  // storage blocked). Every access can throw (sandboxed frames), hence the try blocks.
  const get = (key: string): string | null => {
    try {
      const value = w.localStorage?.getItem(key);
      if (value != null) return value;
    } catch {}
    try {
      const match = doc.cookie.match(new RegExp(`(?:^|; )${key}=([^;]*)`));
      return match ? decodeURIComponent(match[1]!) : null;
    } catch {
      return null;
    }
  };
  const cookie = (key: string, value: string, maxAge: number) => {
    try {
      doc.cookie = `${key}=${encodeURIComponent(value)};path=/;max-age=${maxAge};SameSite=Lax`;
    } catch {}
  };
  const set = (key: string, value: string) => {
    try {
      return w.localStorage!.setItem(key, value);
    } catch {}
    cookie(key, value, 31_536_000);
  };
  const del = (key: string) => {
    try {
      w.localStorage!.removeItem(key);
    } catch {}
    cookie(key, '', 0);
  };

  // randomUUID exists only in secure contexts (https, localhost); plain-http pages get the
  // same v4 layout from getRandomValues, and Math.random where there is no crypto at all.
  const uuid = (): string => {
    const c = w.crypto;
    if (c?.randomUUID) return c.randomUUID();
    return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (digit) => {
      const d = +digit;
      const r = c ? c.getRandomValues(new Uint8Array(1))[0]! : Math.random() * 256;
      return (d ^ (r & (15 >> (d / 4)))).toString(16);
    });
  };
  const idFor = (key: string) => {
    const id = get(key) || uuid();
    set(key, id);
    return id;
  };
  // Stored as `<id>.<last activity ms>`; any event extends the session, across tabs.
  const session = () => {
    const now = Date.now();
    const [stored, last] = (get(SID) ?? '').split('.');
    const id = stored && now - Number(last) < sessionTimeout ? stored : uuid();
    set(SID, `${id}.${now}`);
    return id;
  };

  // The queue lives in localStorage too (not in a cookie: it would ride on every request),
  // so events survive offline spells, failed sends and page loads.
  let queue: TrackerEvent[] = [];
  try {
    // Anything but an array (another script's value, a torn write) is ignored, not trusted.
    const stored = JSON.parse(w.localStorage?.getItem(queueKey) || '[]');
    if (Array.isArray(stored)) queue = stored;
  } catch {}
  const save = () => {
    try {
      w.localStorage?.setItem(queueKey, JSON.stringify(queue));
    } catch {}
  };
  const remove = (sent: TrackerEvent[]) => {
    const ids = new Set(sent.map((e) => e.messageId));
    queue = queue.filter((e) => !ids.has(e.messageId));
    save();
  };
  // The first events whose body stays under `max` bytes; at least one, so an oversized
  // event is sent (and refused by the edge) rather than blocking the queue.
  const encoder = new TextEncoder();
  const take = (max: number) => {
    let n = 0;
    for (let size = 0; n < queue.length; n++) {
      size += encoder.encode(JSON.stringify(queue[n])).length;
      if (size > max) break;
    }
    return queue.slice(0, n || 1);
  };
  const body = (batch: TrackerEvent[]) =>
    JSON.stringify({ batch, writeKey: options.writeKey, sentAt: new Date().toISOString() });

  const blocked = () => get(OPT) === '1' || (!!options.respectDnt && nav.doNotTrack === '1');

  let timer: ReturnType<typeof setTimeout> | undefined;
  let busy = false;
  let attempts = 0;
  let retryAt = 0;
  const schedule = (ms: number, replace?: boolean) => {
    if (timer && !replace) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
  };

  const flush = async (): Promise<void> => {
    const wait = retryAt - Date.now();
    if (wait > 0) return schedule(wait);
    // Offline: keep everything; the `online` listener sends it.
    if (busy || !queue.length || nav.onLine === false) return;
    busy = true;
    const batch = take(FETCH_BYTES);
    const backlog = batch.length < queue.length;
    let retryIn: number | undefined;
    try {
      // A string body goes as text/plain;charset=UTF-8: no preflight (see the module note).
      const res = await w.fetch(url, { method: 'POST', body: body(batch) });
      if (res.status === 429 || res.status > 499) {
        const after = res.headers.get('Retry-After');
        const seconds = Number(after);
        retryIn = (Number.isNaN(seconds) ? Date.parse(after!) - Date.now() : seconds * 1000) || 0;
      }
    } catch {
      retryIn = 0; // a network error: the request may not have left
    }
    busy = false;
    if (retryIn === undefined) {
      // 2xx, or a 4xx that sending again cannot fix: either way these are done.
      attempts = 0;
      remove(batch);
    } else {
      // Exponential backoff with jitter (1 s, 2 s, 4 s… up to a minute, each 50–100 %), never
      // sooner than Retry-After. After maxRetries the events stay queued until the next
      // event, `online` or page load starts sending again.
      if (++attempts > maxRetries) {
        attempts = 0;
        return;
      }
      const backoff = Math.min(60_000, 1000 * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
      retryAt = Date.now() + Math.max(retryIn, backoff);
      return schedule(retryAt - Date.now(), true);
    }
    // A backlog (after an offline spell) drains at once, a batch at a time.
    if (backlog || queue.length >= flushAt) return flush();
    if (queue.length) schedule(flushInterval);
  };

  // The page is going away (or to the background, which on mobile is often the last
  // chance): hand everything to sendBeacon, which outlives the page. What it refuses
  // (quota) stays queued for the next page load.
  const beacon = () => {
    if (nav.onLine === false) return;
    while (queue.length) {
      const batch = take(BEACON_BYTES);
      if (!nav.sendBeacon?.(url, body(batch))) break;
      remove(batch);
    }
  };
  w.addEventListener('pagehide', beacon);
  doc.addEventListener('visibilitychange', () => {
    if (doc.visibilityState === 'hidden') beacon();
  });
  w.addEventListener('online', () => {
    retryAt = attempts = 0;
    void flush();
  });
  // Events left by an earlier page (offline, failed, beacon refused) go with the next send.
  if (queue.length) schedule(flushInterval);

  // After a single-page-app navigation the referrer is the app's previous URL, not the
  // document's: the visit did not come from outside again.
  const here = () => w.location.href.replace(/#.*/, '');
  let spaReferrer: string | undefined;
  // context.page on every event, and a page event's properties, as analytics.js does.
  const pageInfo = () => ({
    path: w.location.pathname,
    referrer: spaReferrer ?? doc.referrer,
    search: w.location.search,
    title: doc.title,
    url: here(),
  });

  const enqueue = (type: string, fields: Props) => {
    if (blocked()) return;
    const context: Props = {
      library: { name: 'beacon-to-hive', version: VERSION },
      locale: nav.language,
      userAgent: nav.userAgent,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      page: pageInfo(),
      sessionId: session(),
    };
    const screen = w.screen;
    if (screen) context.screen = { width: screen.width, height: screen.height, density: w.devicePixelRatio };
    // utm_source → campaign.source …, utm_campaign → campaign.name, as analytics.js does.
    const campaign: Props = {};
    new URLSearchParams(w.location.search).forEach((value, key) => {
      if (key.startsWith('utm_')) campaign[key === 'utm_campaign' ? 'name' : key.slice(4)] = value;
    });
    if (Object.keys(campaign).length) context.campaign = campaign;
    queue.push({
      type,
      ...fields,
      anonymousId: idFor(AID),
      userId: get(UID) ?? undefined,
      messageId: uuid(),
      timestamp: new Date().toISOString(),
      context,
    });
    if (queue.length > maxQueue) queue.splice(0, queue.length - maxQueue);
    save();
    if (queue.length >= flushAt) void flush();
    else schedule(flushInterval);
  };

  const page: Tracker['page'] = (name, properties = {}) => {
    if (typeof name === 'object') [name, properties] = [undefined, name];
    enqueue('page', { name, properties: { ...pageInfo(), ...(name ? { name } : {}), ...properties } });
  };

  // Opt-in: wrap pushState and listen to popstate; a change of the #fragment alone is no new page.
  const history = w.history;
  if (options.spa && history) {
    let last = here();
    const moved = () => {
      if (here() === last) return;
      spaReferrer = last;
      last = here();
      page();
    };
    const push = history.pushState;
    history.pushState = function (this: unknown, ...args: unknown[]) {
      push.apply(this, args);
      moved();
    };
    w.addEventListener('popstate', moved);
  }

  return {
    track: (event, properties = {}) => enqueue('track', { event, properties }),
    page,
    identify(userId, traits = {}) {
      if (typeof userId === 'object') [userId, traits] = [undefined, userId];
      if (userId && !blocked()) set(UID, String(userId));
      enqueue('identify', { traits });
    },
    reset() {
      for (const key of [AID, UID, SID]) del(key);
    },
    optOut() {
      for (const key of [AID, UID, SID]) del(key);
      set(OPT, '1');
      queue = [];
      save();
    },
    optIn: () => del(OPT),
    flush,
  };
}
