/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against the service on a seeded DuckDB warehouse: a read key opens the
 * project, every panel shows the seeded numbers, the date picker redraws the
 * chart, a phone-sized screen does not scroll sideways, and nothing is logged
 * to the console as an error. Screenshots land in test-results/.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { launchChromium } from '../test/infra/chromium.ts';
import { duckdbWarehouse, type EngineWarehouse, newRunId } from './fixtures/engine-warehouses.ts';
import { expectedSummary, expectedTop } from './fixtures/reference-answers.ts';
import { seededTraffic } from './fixtures/seeded-traffic.ts';
import { type RunningInsights, startInsights } from './start.ts';

const facts = seededTraffic({
  seed: 4242,
  start: new Date('2026-11-20T00:00:00Z'),
  hours: 72,
  projects: ['acme', 'beta'],
  visitorsPerProject: 120,
});
const READ_KEY = 'rk_dashboard_acme_0123456789';

const integer = (n: number) => n.toLocaleString('en-US');
const range = (from: string, toExclusive: string) => ({ from: new Date(from), to: new Date(toExclusive) });

describe('dashboard', () => {
  let warehouse: EngineWarehouse;
  let insights: RunningInsights;
  let browser: Browser;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    await mkdir('test-results', { recursive: true });
    warehouse = await duckdbWarehouse(facts, newRunId('dash'));
    insights = await startInsights(
      {
        http: { host: '127.0.0.1', port: 0 },
        projects: [{ id: 'acme', name: 'Acme Shop', readKeys: [READ_KEY] }],
        engine: { kind: 'duckdb', store: { kind: 'dir', root: '/nonexistent-unused' } },
        tables: warehouse.tables,
      },
      { catalog: warehouse.catalog, logger: createLogger('insights-dashboard-it', 'warn') },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await insights?.close();
    await warehouse?.cleanup();
  });

  async function openPage(width: number, height: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    return page;
  }

  async function ready(page: Page): Promise<void> {
    await page.waitForFunction(
      () => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error',
    );
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
  }

  it('opens the project with a read key and shows the seeded numbers', async () => {
    const page = await openPage(1280, 900);
    await page.goto(`${insights.url}/#from=2026-11-20&to=2026-11-22`);
    await page.waitForFunction(() => document.body.dataset.state === 'empty');
    await page.click('#empty-add');
    await page.fill('#key-input', READ_KEY);
    await page.click('#key-submit');
    await ready(page);

    const shown = range('2026-11-20T00:00:00Z', '2026-11-23T00:00:00Z');
    const summary = expectedSummary(facts, 'acme', shown).current;
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(integer(summary.visitors));
    expect(await page.textContent('[data-metric="Page views"] .value')).toBe(integer(summary.pageviews));
    expect(await page.textContent('[data-metric="Sessions"] .value')).toBe(integer(summary.sessions));
    // Three days are drawn by the hour.
    expect(await page.getAttribute('#chart', 'data-points')).toBe('72');
    expect(await page.locator('#chart canvas').count()).toBe(1);
    const pages = expectedTop(facts, 'acme', shown, 'page_path', { event: '$pageview', limit: 8 }).rows;
    expect(await page.locator('#top-pages td.name').allTextContents()).toEqual(pages.map((r) => r.value));
    expect(await page.locator('#retention td.cohort').allTextContents()).toEqual([
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
    ]);
    expect(await page.locator('#funnel .step').count()).toBe(3);
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });

    // The date picker: one day less, and the chart and the numbers follow.
    await page.fill('#from', '2026-11-21');
    await page.dispatchEvent('#from', 'change');
    await page.waitForFunction(() => document.getElementById('chart')?.dataset.points === '48');
    await ready(page);
    expect(await page.getAttribute('#chart', 'data-from')).toBe('2026-11-21T00:00:00.000Z');
    const narrower = expectedSummary(
      facts,
      'acme',
      range('2026-11-21T00:00:00Z', '2026-11-23T00:00:00Z'),
    ).current;
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(integer(narrower.visitors));
    expect(page.url()).toContain('from=2026-11-21');
    await page.close();
  });

  it('stays readable on a phone: the key is remembered and nothing scrolls sideways', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(`${insights.url}/`);
    await page.evaluate(
      (key) =>
        localStorage.setItem('insights.projects', JSON.stringify([{ id: 'acme', name: 'Acme Shop', key }])),
      READ_KEY,
    );
    await page.goto(`${insights.url}/#from=2026-11-20&to=2026-11-22`);
    await page.reload();
    await ready(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/dashboard-phone.png', fullPage: true });
    await context.close();
  });

  it('logged no errors to the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});
