/**
 * @module A small stand-in for the browser globals the tracker touches (storage, cookies,
 * fetch, sendBeacon, events), for unit tests in Node. It records what the tracker sends
 * and answers with scripted replies; the real-browser check is
 * tracker.browser.integration.test.ts.
 */
import type { TrackerWindow } from './tracker.ts';

// A seeded Math.random for the tracker tests, so backoff jitter replays exactly.
export { seededRandom } from '../../test/seeded-random.ts';

/** What the fake server answers, in order; a 200 once the script runs out. */
export type Reply = number | { status: number; retryAfter?: string } | 'network-error';

export interface SentRequest {
  via: 'fetch' | 'beacon';
  url: string;
  /** The raw body: the tracker must send a string (text/plain), never a Blob. */
  body: string;
  /** Whether the tracker set any header (it must not: a string body goes as text/plain). */
  headers: unknown;
  /** Fake clock when sent. */
  at: number;
  batch: Array<Record<string, unknown> & { messageId: string; context: Record<string, unknown> }>;
  writeKey: string;
  sentAt: string;
}

export interface FakeBrowserOptions {
  /** `throws`: every localStorage call throws, as in a sandboxed frame or with storage blocked. */
  localStorage?: 'ok' | 'throws' | 'missing';
  /** Shared with another fake to play a page reload (same origin, same storage). */
  storage?: Map<string, string>;
  cookies?: Map<string, string>;
  doNotTrack?: string | null;
  crypto?: 'full' | 'no-randomUUID' | 'none';
  href?: string;
  /** What sendBeacon returns (true unless the quota is full). */
  beaconAccepts?: boolean;
}

export interface FakeBrowser {
  window: TrackerWindow;
  storage: Map<string, string>;
  cookies: Map<string, string>;
  requests: SentRequest[];
  replies: Reply[];
  online: boolean;
  beaconAccepts: boolean;
  /** Dispatch an event on window (`pagehide`, `online`). */
  fire(type: string): void;
  /** Set document.visibilityState and dispatch `visibilitychange` on the document. */
  setVisibility(state: 'hidden' | 'visible'): void;
}

function listeners() {
  const map = new Map<string, Array<() => void>>();
  return {
    add: (type: string, fn: () => void) => map.set(type, [...(map.get(type) ?? []), fn]),
    fire: (type: string) => {
      for (const fn of map.get(type) ?? []) fn();
    },
  };
}

export function fakeBrowser(options: FakeBrowserOptions = {}): FakeBrowser {
  const storage = options.storage ?? new Map<string, string>();
  const cookies = options.cookies ?? new Map<string, string>();
  const requests: SentRequest[] = [];
  const replies: Reply[] = [];
  const onWindow = listeners();
  const onDocument = listeners();
  const url = new URL(
    options.href ?? 'https://shop.example/products/shoes?utm_source=news&utm_campaign=spring#top',
  );

  const record = (via: SentRequest['via'], to: string, body: unknown, headers: unknown) => {
    if (typeof body !== 'string') throw new TypeError(`the tracker sent a ${typeof body} body, not a string`);
    const parsed = JSON.parse(body) as Pick<SentRequest, 'batch' | 'writeKey' | 'sentAt'>;
    requests.push({ via, url: to, body, headers, at: Date.now(), ...parsed });
  };

  const localStorage: TrackerWindow['localStorage'] =
    options.localStorage === 'throws'
      ? {
          getItem: () => {
            throw new DOMException('denied', 'SecurityError');
          },
          setItem: () => {
            throw new DOMException('denied', 'SecurityError');
          },
          removeItem: () => {
            throw new DOMException('denied', 'SecurityError');
          },
        }
      : {
          getItem: (key) => storage.get(key) ?? null,
          setItem: (key, value) => void storage.set(key, String(value)),
          removeItem: (key) => void storage.delete(key),
        };

  const document = {
    title: 'Shoes',
    referrer: 'https://search.example/?q=shoes',
    visibilityState: 'visible',
    get cookie() {
      return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    // Like a browser: one `name=value;attributes` per write; max-age=0 deletes.
    set cookie(line: string) {
      const [pair = '', ...attributes] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (attributes.includes('max-age=0')) cookies.delete(name);
      else cookies.set(name, value);
    },
    addEventListener: onDocument.add,
  };

  const browser: FakeBrowser = {
    storage,
    cookies,
    requests,
    replies,
    online: true,
    beaconAccepts: options.beaconAccepts ?? true,
    fire: onWindow.fire,
    setVisibility(state) {
      document.visibilityState = state;
      onDocument.fire('visibilitychange');
    },
    window: {
      location: { href: url.href, pathname: url.pathname, search: url.search },
      document,
      navigator: {
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) FakeBrowser/1.0',
        language: 'en-GB',
        get onLine() {
          return browser.online;
        },
        doNotTrack: options.doNotTrack ?? null,
        sendBeacon(to, data) {
          if (!browser.beaconAccepts) return false;
          record('beacon', to, data, undefined);
          return true;
        },
      },
      screen: { width: 1440, height: 900 },
      devicePixelRatio: 2,
      ...(options.localStorage === 'missing' ? {} : { localStorage }),
      ...(options.crypto === 'none'
        ? {}
        : {
            crypto: {
              ...(options.crypto === 'no-randomUUID' ? {} : { randomUUID: () => crypto.randomUUID() }),
              getRandomValues: (array: Uint8Array) => crypto.getRandomValues(array),
            },
          }),
      async fetch(to, init) {
        record('fetch', to, init.body, (init as { headers?: unknown }).headers);
        const reply = replies.shift() ?? 200;
        if (reply === 'network-error') throw new TypeError('Failed to fetch');
        const { status, retryAfter } =
          typeof reply === 'number' ? { status: reply, retryAfter: undefined } : reply;
        return {
          status,
          headers: {
            get: (name: string) => (name.toLowerCase() === 'retry-after' ? (retryAfter ?? null) : null),
          },
        };
      },
      addEventListener: onWindow.add,
    },
  };
  return browser;
}
