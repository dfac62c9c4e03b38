// Over 300 lines: tests of the tracker's every path under one fake browser and clock.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeBrowser, type FakeBrowserOptions, fakeBrowser, seededRandom } from './fake-browser.ts';
import { createTracker, type TrackerOptions, VERSION } from './tracker.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const START = new Date('2026-11-25T10:00:00.000Z');

// Fake clock and a seeded Math.random: every delay below is the tracker's own arithmetic,
// replayed exactly; nothing waits on the real clock. setImmediate stays real to drain promises.
beforeEach(() => {
  vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.spyOn(Math, 'random').mockImplementation(seededRandom(7));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Lets a send in flight (fake fetch, a resolved promise) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: Partial<TrackerOptions> = {}, browserOptions: FakeBrowserOptions = {}) {
  const browser = fakeBrowser(browserOptions);
  const tracker = createTracker({
    host: 'https://edge.example/',
    writeKey: 'wk_test',
    window: browser.window,
    ...options,
  });
  return { browser, tracker };
}

const events = (browser: FakeBrowser) => browser.requests.flatMap((r) => r.batch);
const queued = (browser: FakeBrowser, writeKey = 'wk_test') =>
  JSON.parse(browser.storage.get(`bth_q_${writeKey}`) ?? '[]') as unknown[];

describe('events', () => {
  it('carries the Segment fields and the context analytics.js sends', async () => {
    const { browser, tracker } = setup();
    tracker.track('Signed Up', { plan: 'pro' });
    await tracker.flush();

    expect(browser.requests).toHaveLength(1);
    const [request] = browser.requests;
    expect(request).toMatchObject({
      via: 'fetch',
      url: 'https://edge.example/v1/batch',
      writeKey: 'wk_test',
    });
    // No header at all: the browser labels a string body text/plain;charset=UTF-8 itself.
    expect(request!.headers).toBeUndefined();
    expect(request!.sentAt).toBe(START.toISOString());
    const [event] = request!.batch;
    expect(event).toMatchObject({
      type: 'track',
      event: 'Signed Up',
      properties: { plan: 'pro' },
      timestamp: START.toISOString(),
      context: {
        library: { name: 'beacon-to-hive', version: VERSION },
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) FakeBrowser/1.0',
        locale: 'en-GB',
        screen: { width: 1440, height: 900, density: 2 },
        page: {
          path: '/products/shoes',
          url: 'https://shop.example/products/shoes?utm_source=news&utm_campaign=spring',
          search: '?utm_source=news&utm_campaign=spring',
          title: 'Shoes',
          referrer: 'https://search.example/?q=shoes',
        },
        campaign: { source: 'news', name: 'spring' },
      },
    });
    expect(event!.messageId).toMatch(UUID);
    expect(event!.anonymousId).toMatch(UUID);
    expect(event!.context.sessionId).toMatch(UUID);
    expect(event).not.toHaveProperty('userId');
    expect(typeof event!.context.timezone).toBe('string');
  });

  it('gives page events the page fields as properties, name first, caller last', async () => {
    const { browser, tracker } = setup();
    tracker.page('Product', { sku: 'S-1', title: 'Override' });
    tracker.page({ section: 'home' });
    tracker.page();
    await tracker.flush();

    const [named, propsOnly, bare] = events(browser);
    expect(named).toMatchObject({
      type: 'page',
      name: 'Product',
      properties: { name: 'Product', sku: 'S-1', title: 'Override', path: '/products/shoes' },
    });
    expect(propsOnly).toMatchObject({ type: 'page', properties: { section: 'home', title: 'Shoes' } });
    expect(propsOnly).not.toHaveProperty('name');
    expect(bare!.properties).toEqual(bare!.context.page);
  });

  it('identify keeps the user id for later events, and reset forgets it', async () => {
    const { browser, tracker } = setup();
    tracker.identify('user-42', { email: 'a@b.example' });
    tracker.identify({ plan: 'pro' });
    tracker.track('Clicked');
    await tracker.flush();
    const [first, second, third] = events(browser);
    expect(first).toMatchObject({ type: 'identify', userId: 'user-42', traits: { email: 'a@b.example' } });
    expect(second).toMatchObject({ type: 'identify', userId: 'user-42', traits: { plan: 'pro' } });
    expect(third).toMatchObject({ type: 'track', userId: 'user-42', anonymousId: first!.anonymousId });

    tracker.reset();
    tracker.track('After logout');
    await tracker.flush();
    const after = events(browser)[3]!;
    expect(after).not.toHaveProperty('userId');
    expect(after.anonymousId).not.toBe(first!.anonymousId);
    expect(after.context.sessionId).not.toBe(first!.context.sessionId);
  });

  it('makes v4 ids without randomUUID (plain-http pages) and without crypto at all', async () => {
    for (const crypto of ['no-randomUUID', 'none'] as const) {
      const { browser, tracker } = setup({}, { crypto });
      tracker.track('x');
      tracker.track('y');
      await tracker.flush();
      const [x, y] = events(browser);
      expect(x!.messageId).toMatch(UUID);
      expect(y!.messageId).toMatch(UUID);
      expect(x!.messageId).not.toBe(y!.messageId);
    }
  });

  it('reports the version package.json declares', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});

describe('ids in first-party storage', () => {
  it('keeps the anonymous id in localStorage across page loads', async () => {
    const storage = new Map<string, string>();
    const first = setup({}, { storage });
    first.tracker.track('a');
    await first.tracker.flush();
    const second = setup({}, { storage });
    second.tracker.track('b');
    await second.tracker.flush();
    expect(storage.get('bth_aid')).toMatch(UUID);
    expect(events(second.browser)[0]!.anonymousId).toBe(storage.get('bth_aid'));
    expect(events(first.browser)[0]!.anonymousId).toBe(storage.get('bth_aid'));
  });

  it('falls back to a first-party cookie when localStorage throws', async () => {
    const cookies = new Map<string, string>();
    const first = setup({}, { localStorage: 'throws', cookies });
    first.tracker.identify('user-7');
    await first.tracker.flush();
    expect(cookies.get('bth_aid')).toMatch(UUID);
    expect(cookies.get('bth_uid')).toBe('user-7');

    const second = setup({}, { localStorage: 'missing', cookies });
    second.tracker.track('again');
    await second.tracker.flush();
    expect(events(second.browser)[0]).toMatchObject({
      anonymousId: cookies.get('bth_aid'),
      userId: 'user-7',
    });
    // The queue never goes into a cookie: it would ride along on every request.
    expect([...cookies.keys()].some((k) => k.startsWith('bth_q'))).toBe(false);
  });

  it('keeps one session until 30 minutes pass without an event', async () => {
    const { browser, tracker } = setup();
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(29 * 60_000);
    tracker.track('b'); // activity: the 30 minutes start again
    await vi.advanceTimersByTimeAsync(29 * 60_000);
    tracker.track('c');
    await vi.advanceTimersByTimeAsync(30 * 60_000 + 1);
    tracker.track('d');
    await tracker.flush();
    const ids = events(browser).map((e) => e.context.sessionId);
    expect(ids).toHaveLength(4);
    expect(new Set(ids.slice(0, 3)).size).toBe(1);
    expect(ids[3]).not.toBe(ids[0]);
  });
});

describe('batching', () => {
  it('sends once flushAt events wait, in one request', async () => {
    const { browser, tracker } = setup({ flushAt: 3, flushInterval: 60_000 });
    tracker.track('a');
    tracker.track('b');
    await settle();
    expect(browser.requests).toHaveLength(0);
    tracker.track('c');
    await settle();
    expect(browser.requests).toHaveLength(1);
    expect(browser.requests[0]!.batch.map((e) => e.event)).toEqual(['a', 'b', 'c']);
    expect(queued(browser)).toEqual([]);
  });

  it('sends flushInterval after the first waiting event', async () => {
    const { browser, tracker } = setup({ flushAt: 100, flushInterval: 5000 });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(3000);
    tracker.track('b'); // does not push the deadline back
    await vi.advanceTimersByTimeAsync(1999);
    expect(browser.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(browser.requests).toHaveLength(1);
    expect(browser.requests[0]!.batch).toHaveLength(2);
  });

  it('splits a large backlog into requests under the edge batch limit', async () => {
    const { browser, tracker } = setup({ flushAt: 1000, flushInterval: 60_000 });
    const blob = 'x'.repeat(30_000);
    for (let i = 0; i < 40; i++) tracker.track('big', { blob, i });
    await tracker.flush();
    for (let i = 0; i < 5; i++) await settle(); // one request after another, no timer between
    expect(browser.requests.length).toBeGreaterThan(2);
    for (const r of browser.requests) expect(Buffer.byteLength(r.body)).toBeLessThan(500_000);
    expect(events(browser).map((e) => (e.properties as { i: number }).i)).toEqual([...Array(40).keys()]);
  });
});

describe('retries', () => {
  it('backs off exponentially with jitter on 5xx and network errors, then succeeds', async () => {
    const { browser, tracker } = setup();
    browser.replies.push(503, 'network-error', 500, 502);
    tracker.track('a');
    await vi.runAllTimersAsync();

    expect(browser.requests).toHaveLength(5);
    const gaps = browser.requests.slice(1).map((r, i) => r.at - browser.requests[i]!.at);
    gaps.forEach((gap, i) => {
      const base = 1000 * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(base / 2);
      expect(gap).toBeLessThanOrEqual(base);
    });
    expect(new Set(gaps.map((g, i) => g / 2 ** i)).size).toBeGreaterThan(1); // jittered, not fixed
    // Every attempt carries the same event: the warehouse dedups on messageId.
    expect(new Set(events(browser).map((e) => e.messageId)).size).toBe(1);
    expect(queued(browser)).toEqual([]);
  });

  it('waits at least Retry-After on 429, in seconds or as a date', async () => {
    const { browser, tracker } = setup();
    const in90s = new Date(START.getTime() + 90_000).toUTCString();
    browser.replies.push({ status: 429, retryAfter: '30' }, { status: 503, retryAfter: in90s });
    tracker.track('a');
    await tracker.flush();
    tracker.track('b');
    tracker.track('c');
    await tracker.flush(); // too early: does nothing
    await vi.advanceTimersByTimeAsync(29_999);
    expect(browser.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(browser.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(browser.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(browser.requests).toHaveLength(3);
    expect(browser.requests[2]!.batch.map((e) => e.event)).toEqual(['a', 'b', 'c']);
  });

  it('drops a batch the edge refuses with a 4xx other than 429, without retrying', async () => {
    const { browser, tracker } = setup({ flushAt: 1 });
    browser.replies.push(400);
    tracker.track('bad');
    await settle();
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(1);
    expect(queued(browser)).toEqual([]);
    tracker.track('next');
    await settle();
    expect(browser.requests).toHaveLength(2);
    expect(browser.requests[1]!.batch.map((e) => e.event)).toEqual(['next']);
  });

  it('stops after maxRetries but keeps the events, and sends them with the next event', async () => {
    const { browser, tracker } = setup({ maxRetries: 3, flushInterval: 1000 });
    browser.replies.push(...Array<Reply>(4).fill(503));
    tracker.track('a');
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(4); // the first try and 3 retries
    expect(queued(browser)).toHaveLength(1);

    tracker.track('b');
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(5);
    expect(browser.requests[4]!.batch.map((e) => e.event)).toEqual(['a', 'b']);
    expect(queued(browser)).toEqual([]);
  });
});

type Reply = FakeBrowser['replies'][number];

describe('offline queue', () => {
  it('keeps events in localStorage while offline and sends them when back online', async () => {
    const { browser, tracker } = setup({ flushAt: 2 });
    browser.online = false;
    for (const name of ['a', 'b', 'c']) tracker.track(name);
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(0);
    expect(queued(browser)).toHaveLength(3);

    browser.online = true;
    browser.fire('online');
    await settle();
    await vi.runAllTimersAsync();
    expect(events(browser).map((e) => e.event)).toEqual(['a', 'b', 'c']);
    expect(queued(browser)).toEqual([]);
  });

  it('ignores a stored queue that is not one (another script, a torn write)', async () => {
    for (const junk of ['{"batch":1}', 'not json', '42']) {
      const storage = new Map([['bth_q_wk_test', junk]]);
      const { browser, tracker } = setup({}, { storage });
      tracker.track('fine');
      await tracker.flush();
      expect(events(browser).map((e) => e.event)).toEqual(['fine']);
    }
  });

  it('is bounded: the oldest events go first', async () => {
    const { browser, tracker } = setup({ maxQueue: 5 });
    browser.online = false;
    for (let i = 0; i < 8; i++) tracker.track(`e${i}`);
    expect((queued(browser) as Array<{ event: string }>).map((e) => e.event)).toEqual([
      'e3',
      'e4',
      'e5',
      'e6',
      'e7',
    ]);
  });

  it('survives a page load: the next page sends what the last one could not', async () => {
    const storage = new Map<string, string>();
    const first = setup({}, { storage });
    first.browser.online = false;
    first.tracker.track('before reload');
    first.browser.fire('pagehide'); // offline: a beacon would be lost, so it is not sent
    expect(first.browser.requests).toHaveLength(0);

    const second = setup({ flushInterval: 2000 }, { storage });
    await vi.advanceTimersByTimeAsync(2000);
    expect(events(second.browser).map((e) => e.event)).toEqual(['before reload']);
    expect(queued(second.browser)).toEqual([]);
  });
});

describe('beacon on the way out', () => {
  it('hands everything waiting to sendBeacon as a string on pagehide', async () => {
    const { browser, tracker } = setup();
    tracker.page();
    tracker.track('Clicked');
    browser.fire('pagehide');
    expect(browser.requests).toHaveLength(1);
    expect(browser.requests[0]).toMatchObject({
      via: 'beacon',
      url: 'https://edge.example/v1/batch',
      writeKey: 'wk_test',
    });
    expect(events(browser).map((e) => e.type)).toEqual(['page', 'track']);
    expect(queued(browser)).toEqual([]);
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(1); // nothing left for the timer
  });

  it('beacons when the page is hidden, not when it shows again', () => {
    const { browser, tracker } = setup();
    tracker.track('a');
    browser.setVisibility('visible');
    expect(browser.requests).toHaveLength(0);
    browser.setVisibility('hidden');
    expect(browser.requests.map((r) => r.via)).toEqual(['beacon']);
  });

  it('splits into beacons under 64 KB and keeps what the quota refuses for the next page', () => {
    const { browser, tracker } = setup({ flushAt: 1000 });
    const blob = 'y'.repeat(10_000);
    for (let i = 0; i < 12; i++) tracker.track('big', { blob, i });
    browser.fire('pagehide');
    expect(browser.requests.length).toBeGreaterThan(1);
    for (const r of browser.requests) expect(Buffer.byteLength(r.body)).toBeLessThan(64 * 1024);
    expect(events(browser)).toHaveLength(12);

    tracker.track('late');
    tracker.track('later');
    browser.beaconAccepts = false;
    browser.fire('pagehide');
    expect(events(browser)).toHaveLength(12);
    expect(queued(browser)).toHaveLength(2);
  });
});

describe('consent', () => {
  it('sends and stores nothing after optOut, remembers it, and resumes after optIn', async () => {
    const storage = new Map<string, string>();
    const { browser, tracker } = setup({ flushAt: 10 }, { storage });
    tracker.track('waiting');
    tracker.optOut();
    tracker.track('ignored');
    tracker.identify('user-1');
    tracker.page();
    browser.fire('pagehide');
    await vi.runAllTimersAsync();
    expect(browser.requests).toHaveLength(0);
    expect(storage.has('bth_uid')).toBe(false);
    expect(queued(browser)).toEqual([]);

    const reloaded = setup({}, { storage });
    reloaded.tracker.track('still ignored');
    await reloaded.tracker.flush();
    expect(reloaded.browser.requests).toHaveLength(0);

    reloaded.tracker.optIn();
    reloaded.tracker.track('counted');
    await reloaded.tracker.flush();
    expect(events(reloaded.browser).map((e) => e.event)).toEqual(['counted']);
  });

  it('forgets the stored ids on optOut, so opting in again starts a new visitor', async () => {
    const storage = new Map<string, string>();
    const { tracker } = setup({}, { storage });
    tracker.identify('user-1');
    tracker.track('before');
    const before = storage.get('bth_aid');
    expect(before).toBeDefined();
    expect(storage.has('bth_uid')).toBe(true);
    expect(storage.has('bth_sid')).toBe(true);
    tracker.optOut();
    for (const key of ['bth_aid', 'bth_uid', 'bth_sid']) expect(storage.has(key), key).toBe(false);
    tracker.optIn();
    tracker.track('after');
    expect(storage.get('bth_aid')).not.toBe(before);
  });

  it('writes nothing at all for a visitor who opted out before the first event', () => {
    const { browser, tracker } = setup();
    tracker.optOut();
    tracker.track('x');
    expect([...browser.storage.keys()].filter((k) => k !== 'bth_q_wk_test')).toEqual(['bth_optout']);
  });

  it('honours Do Not Track only when asked to', async () => {
    for (const [respectDnt, doNotTrack, sent] of [
      [true, '1', 0],
      [true, '0', 1],
      [true, null, 1],
      [false, '1', 1],
    ] as const) {
      const { browser, tracker } = setup({ respectDnt }, { doNotTrack });
      tracker.track('x');
      await tracker.flush();
      expect(browser.requests, `respectDnt ${respectDnt}, DNT ${doNotTrack}`).toHaveLength(sent);
      if (!sent) expect(browser.storage.has('bth_aid')).toBe(false);
    }
  });
});
