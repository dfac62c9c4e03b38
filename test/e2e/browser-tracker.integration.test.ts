/**
 * What a site owner does after `npm start`: list the site's origin for the
 * demo project (`demoProject.allowedOrigins`) and put the script tag on a page. A
 * real browser (Debian's Chromium) opens a test page on its own origin that
 * loads /t.js from the running edge, records the page view and three clicks,
 * then moves on as a single-page app does (history.pushState, `data-spa`),
 * and closes the page. The tracker is told not to send before then, so the
 * events can only arrive by the beacon sent as the page goes away (pagehide).
 * After a load, the insights API answers with them, and the dashboard, opened
 * in the same browser with the project's read key, lists both pages.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type OneMachineProcess, requestLoad } from '../demo/one-machine.ts';
import { launchChromium } from '../infra/chromium.ts';
import {
  askInsights,
  freePort,
  logTail,
  removeDir,
  startOnTestPorts,
  tempDataDir,
} from './one-machine-fixture.ts';

const PERSON_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

interface Row {
  value: string;
  events: number;
}

function testPage(edgeUrl: string, writeKey: string): string {
  // flush-interval of an hour and flush-at of 100: nothing is sent while the page is open.
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout test page</title>
<script async src="${edgeUrl}/t.js" data-write-key="${writeKey}" data-flush-interval="3600000" data-flush-at="100" data-spa></script>
</head><body>
<button id="buy" onclick="beacon.track('Clicked Buy', { n: ++window.clicks })">Buy</button>
<script>window.clicks = 0;</script>
</body></html>`;
}

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
}

describe('one machine: the browser tracker end to end', () => {
  let dataDir: string | undefined;
  let proc: OneMachineProcess | undefined;
  let site: Server | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (site ? site.close(done) : done(undefined)));
    await proc?.stop();
    if (dataDir) await removeDir(dataDir);
  });

  it('loads what the page sent by beacon and answers it through the API', async () => {
    dataDir = await tempDataDir('browser');
    // CORS is by explicit grant only: the demo project lists the test site's origin, as a user would.
    const sitePort = await freePort();
    const config = join(dataDir, 'site.config.json');
    await writeFile(
      config,
      JSON.stringify({ demoProject: { allowedOrigins: [`http://127.0.0.1:${sitePort}`] } }),
    );
    proc = await startOnTestPorts(dataDir, { args: ['--config', config] });
    const { run } = proc;
    const html = testPage(run.edgeUrl, run.project.writeKey);
    site = createServer((req, res) => {
      if (req.url?.startsWith('/checkout')) res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await listen(site, sitePort);

    browser = await launchChromium();
    // A person's browser: headless Chrome's own user agent is a bot's, which dashboards leave out.
    const page = await browser.newPage({ userAgent: PERSON_UA });
    await page.goto(`http://127.0.0.1:${sitePort}/checkout?utm_source=e2e`);
    // t.js has run when `beacon` is the tracker rather than the stub's queue.
    await page.waitForFunction(() => {
      const b = (window as unknown as { beacon?: unknown }).beacon;
      return b !== undefined && !Array.isArray(b);
    });
    for (let i = 0; i < 3; i++) await page.click('#buy');
    // The app moves on without a page load: data-spa makes that a page view of its own.
    await page.evaluate(() => history.pushState({}, '', '/checkout/thanks'));
    await page.close({ runBeforeUnload: true });

    // The beacon is on its way once the page is gone; load until it has arrived.
    const day = 86_400_000;
    const range = {
      from: new Date(Date.now() - day).toISOString().slice(0, 10),
      to: new Date(Date.now() + day).toISOString().slice(0, 10),
    };
    let events: Row[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      await requestLoad(run);
      events = (
        await askInsights<{ rows: Row[] }>(run, 'top', { ...range, dimension: 'event', bots: 'include' })
      ).rows;
      if (events.some((r) => r.value === 'Clicked Buy' && r.events === 3)) break;
      await sleep(500);
    }
    expect(events, await logTail(proc)).toEqual(
      expect.arrayContaining([
        { value: '$pageview', events: 2, visitors: 1 },
        { value: 'Clicked Buy', events: 3, visitors: 1 },
      ]),
    );
    const pages = await askInsights<{ rows: Row[] }>(run, 'top', {
      ...range,
      dimension: 'page_path',
      bots: 'include',
    });
    expect(pages.rows.map((r) => r.value).sort()).toEqual(['/checkout', '/checkout/thanks']);
    const sources = await askInsights<{ rows: Row[] }>(run, 'top', {
      ...range,
      dimension: 'utm_source',
      bots: 'include',
    });
    expect(sources.rows.map((r) => r.value)).toContain('e2e');

    // The dashboard as its owner opens it: the read key, then both page views among the pages (people only).
    const dashboard = await browser.newPage();
    await dashboard.goto(`${run.insightsUrl}/#from=${range.from}&to=${range.to}`);
    await dashboard.waitForFunction(() => document.body.dataset.state === 'empty');
    await dashboard.click('#empty-add');
    await dashboard.fill('#key-input', run.project.readKey);
    await dashboard.click('#key-submit');
    await dashboard.waitForFunction(
      () => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error',
    );
    expect(await dashboard.evaluate(() => document.body.dataset.state)).toBe('ready');
    expect((await dashboard.locator('#top-pages td.name').allTextContents()).sort()).toEqual([
      '/checkout',
      '/checkout/thanks',
    ]);
    expect(await dashboard.textContent('[data-metric="Page views"] .value')).toBe('2');
  });
}, 300_000);
