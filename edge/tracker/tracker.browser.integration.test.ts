/**
 * The tracker in a real browser (Debian's Chromium through playwright-core): a test page
 * and t.js from one loopback port, a collector that records what arrives on another, so
 * every send is cross-origin as it is in production. What this proves that the unit tests
 * cannot: the browser labels our bodies text/plain, sends them without a CORS preflight,
 * and delivers the last batch by sendBeacon after the page is gone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../test/infra/chromium.ts';
import { listenOnFreePort } from '../../test/infra/free-port.ts';
import { trackerScript } from './serve.ts';

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  fetchMode: string | undefined;
  origin: string | undefined;
  writeKey: string | undefined;
  batch: Array<Record<string, unknown> & { context: Record<string, unknown> }>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** Answers like the edge: CORS for the fetch path, no CORS needed by the beacon. */
function collector(received: Received[]): Server {
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const parsed: Partial<Pick<Received, 'batch' | 'writeKey'>> = body ? JSON.parse(body) : {};
    received.push({
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: req.headers['content-type'],
      fetchMode: req.headers['sec-fetch-mode'] as string | undefined,
      origin: req.headers.origin,
      writeKey: parsed.writeKey,
      batch: parsed.batch ?? [],
    });
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'Retry-After',
      'content-type': 'application/json',
    });
    res.end('{}');
  });
}

/** The test page: the README's stub snippet, a call made before t.js arrives, and a button. */
function testPage(collectorUrl: string, query: URLSearchParams): string {
  const attributes = ['writeKey', 'flushAt', 'flushInterval', 'spa']
    .filter((name) => query.has(name))
    .map((name) => ` data-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${query.get(name)}"`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Tracker test page</title>
<script>
window.beacon=window.beacon||[];['track','page','identify','reset','optOut','optIn','flush'].forEach(function(m){beacon[m]=beacon[m]||function(){beacon.push([m].concat([].slice.call(arguments)))}});
beacon.track('Before load');
window.clicks = 0;
</script>
<script async src="/t.js" data-host="${collectorUrl}"${attributes}></script>
</head><body><button id="buy" onclick="beacon.track('Clicked', { n: ++window.clicks })">Buy</button></body></html>`;
}

function site(collectorUrl: string): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/t.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(await trackerScript());
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(testPage(collectorUrl, url.searchParams));
    } else {
      res.writeHead(404).end();
    }
  });
}

describe('t.js in Chromium, cross-origin', () => {
  const received: Received[] = [];
  let browser: Browser;
  let collectorServer: Server;
  let siteServer: Server;
  let siteUrl: string;

  beforeAll(async () => {
    collectorServer = collector(received);
    const collectorUrl = `http://127.0.0.1:${await listenOnFreePort(collectorServer)}`;
    siteServer = site(collectorUrl);
    siteUrl = `http://127.0.0.1:${await listenOnFreePort(siteServer)}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const server of [siteServer, collectorServer]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  const forKey = (writeKey: string) => received.filter((r) => r.writeKey === writeKey);
  const eventsFor = (writeKey: string) => forKey(writeKey).flatMap((r) => r.batch);
  const preflights = () => received.filter((r) => r.method === 'OPTIONS');

  /** A fresh profile's page with the tracker loaded (the stub replaced by the real one). */
  async function openPage(context: BrowserContext, query: Record<string, string>) {
    const page = await context.newPage();
    await page.goto(`${siteUrl}/?${new URLSearchParams(query)}&utm_source=it&utm_medium=test`);
    await page.waitForFunction(() => window.beacon && !Array.isArray(window.beacon));
    return page;
  }

  async function clickThrice(writeKey: string, leave: 'navigate' | 'close') {
    const context = await browser.newContext();
    // Nothing would go before the page leaves: every event must ride the beacon.
    const page = await openPage(context, { writeKey, flushAt: '100', flushInterval: '600000' });
    for (let i = 0; i < 3; i++) await page.click('#buy');
    expect(forKey(writeKey)).toHaveLength(0);
    if (leave === 'navigate') await page.goto('about:blank');
    else await page.close({ runBeforeUnload: true });
    await expect.poll(() => eventsFor(writeKey).length, { timeout: 15_000 }).toBe(5);
    await context.close();
  }

  it('delivers every event by sendBeacon, as text/plain with no preflight, when the page navigates away', async () => {
    const writeKey = 'wk_navigate';
    await clickThrice(writeKey, 'navigate');

    const requests = forKey(writeKey);
    for (const r of requests) {
      expect(r).toMatchObject({ method: 'POST', path: '/v1/batch', contentType: 'text/plain;charset=UTF-8' });
      expect(r.fetchMode).toBe('no-cors'); // sendBeacon with a safelisted type: no CORS at all
    }
    expect(preflights()).toEqual([]);

    const events = eventsFor(writeKey);
    expect(events.map((e) => [e.type, e.event ?? null])).toEqual([
      ['track', 'Before load'],
      ['page', null],
      ['track', 'Clicked'],
      ['track', 'Clicked'],
      ['track', 'Clicked'],
    ]);
    expect(events.map((e) => (e.properties as { n?: number }).n).slice(2)).toEqual([1, 2, 3]);
    expect(new Set(events.map((e) => e.messageId)).size).toBe(5);
    expect(new Set(events.map((e) => e.anonymousId)).size).toBe(1);
    expect(new Set(events.map((e) => e.context.sessionId)).size).toBe(1);
    const page = events[1]!;
    expect(page.properties).toMatchObject({
      path: '/',
      title: 'Tracker test page',
      url: expect.stringContaining('utm_source=it'),
    });
    expect(page.context).toMatchObject({
      library: { name: 'beacon-to-hive' },
      campaign: { source: 'it', medium: 'test' },
      userAgent: expect.stringContaining('Chrome/'),
      screen: { width: expect.any(Number), height: expect.any(Number) },
    });
  });

  it('with data-spa, records a page view on pushState and popstate to another URL, not on a #fragment', async () => {
    const writeKey = 'wk_spa';
    const context = await browser.newContext();
    const page = await openPage(context, { writeKey, flushAt: '1', spa: 'true' });
    await page.evaluate(() => history.pushState({}, '', '/pricing?plan=pro'));
    await page.evaluate(() => history.pushState({}, '', '/pricing?plan=pro#faq'));
    await page.evaluate(() => history.back());
    await page.evaluate(() => history.back());
    const pages = () => eventsFor(writeKey).filter((e) => e.type === 'page');
    await expect.poll(() => pages().length, { timeout: 15_000 }).toBe(3);
    const props = pages().map((e) => e.properties as { path: string; url: string; referrer: string });
    expect(props.map((p) => p.path)).toEqual(['/', '/pricing', '/']);
    // The page the app came from is the referrer, so internal navigation never reads as a referral.
    expect(props[1]?.referrer).toBe(props[0]?.url);
    expect(props[2]?.referrer).toBe(`${siteUrl}/pricing?plan=pro`);
    await context.close();

    // Without the attribute, history changes are the app's business.
    const plainKey = 'wk_no_spa';
    const plain = await browser.newContext();
    const other = await openPage(plain, { writeKey: plainKey, flushAt: '1' });
    await other.evaluate(() => history.pushState({}, '', '/elsewhere'));
    await other.evaluate(() => (window.beacon as { track(e: string): void }).track('Marker'));
    await expect
      .poll(() => eventsFor(plainKey).some((e) => e.event === 'Marker'), { timeout: 15_000 })
      .toBe(true);
    expect(eventsFor(plainKey).filter((e) => e.type === 'page')).toHaveLength(1);
    await plain.close();
  });

  it('delivers every event by sendBeacon when the page is closed', async () => {
    const writeKey = 'wk_close';
    await clickThrice(writeKey, 'close');
    for (const r of forKey(writeKey)) {
      expect(r).toMatchObject({ contentType: 'text/plain;charset=UTF-8', fetchMode: 'no-cors' });
    }
    expect(preflights()).toEqual([]);
  });

  it('sends batches by fetch while the page lives, keeps the anonymous id across a reload', async () => {
    const writeKey = 'wk_fetch';
    const context = await browser.newContext();
    const page = await openPage(context, { writeKey, flushAt: '2' });
    await page.click('#buy');
    await page.click('#buy');
    await expect.poll(() => eventsFor(writeKey).length, { timeout: 15_000 }).toBe(4);
    for (const r of forKey(writeKey)) {
      expect(r).toMatchObject({ method: 'POST', contentType: 'text/plain;charset=UTF-8', fetchMode: 'cors' });
      expect(r.origin).toBe(siteUrl);
    }
    expect(preflights()).toEqual([]);
    // The edge's 200 was readable (CORS): the sent events left the persisted queue.
    await expect
      .poll(() => page.evaluate((key) => localStorage.getItem(`bth_q_${key}`), writeKey))
      .toBe('[]');

    await page.reload();
    await page.waitForFunction(() => window.beacon && !Array.isArray(window.beacon));
    await expect.poll(() => eventsFor(writeKey).length, { timeout: 15_000 }).toBe(6);
    expect(new Set(eventsFor(writeKey).map((e) => e.anonymousId)).size).toBe(1);
    await context.close();
  });

  it('keeps events while the browser is offline and sends them when it is back online', async () => {
    const writeKey = 'wk_offline';
    const context = await browser.newContext();
    const page = await openPage(context, { writeKey, flushAt: '1' });
    await expect.poll(() => eventsFor(writeKey).length, { timeout: 15_000 }).toBe(2);

    await context.setOffline(true);
    await page.click('#buy');
    await page.click('#buy');
    const stored = await page.evaluate(
      (key) => JSON.parse(localStorage.getItem(`bth_q_${key}`) ?? '[]'),
      writeKey,
    );
    expect(stored).toHaveLength(2);

    await context.setOffline(false);
    await expect.poll(() => eventsFor(writeKey).length, { timeout: 15_000 }).toBe(4);
    expect(
      eventsFor(writeKey)
        .slice(2)
        .map((e) => (e.properties as { n: number }).n),
    ).toEqual([1, 2]);
    await context.close();
  });
});
