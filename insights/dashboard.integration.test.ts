/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against the service on a seeded DuckDB warehouse: a read key opens the
 * project, every panel shows the seeded numbers, the date picker redraws the
 * chart, a phone-sized screen does not scroll sideways, and nothing is logged
 * to the console as an error. Then what people expect from Plausible or
 * PostHog: sources without internal navigation and with Direct / None, bots
 * left out unless asked for, a row click filtering every panel (a chip, kept
 * in the URL), a goal's conversion rate, country names, a clear note for a
 * range too long by the hour, and CSV export. Screenshots land in test-results/.
 */
import { mkdir, readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { launchChromium } from '../test/infra/chromium.ts';
import { duckdbWarehouse, type EngineWarehouse, newRunId } from './fixtures/engine-warehouses.ts';
import {
  audienceFacts,
  expectedGoal,
  expectedSummary,
  expectedTop,
  expectedVisits,
} from './fixtures/reference-answers.ts';
import { seededTraffic } from './fixtures/seeded-traffic.ts';
import { type RunningInsights, startInsights } from './start.ts';

const facts = seededTraffic({
  seed: 4242,
  start: new Date('2026-11-20T00:00:00Z'),
  hours: 72,
  projects: ['acme', 'beta'],
  visitorsPerProject: 120,
});
const people = audienceFacts(facts);
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
    const summary = expectedSummary(people, 'acme', shown).current;
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(integer(summary.visitors));
    expect(await page.textContent('[data-metric="Page views"] .value')).toBe(integer(summary.pageviews));
    expect(await page.textContent('[data-metric="Sessions"] .value')).toBe(integer(summary.sessions));
    // Three days are drawn by the hour.
    expect(await page.getAttribute('#chart', 'data-points')).toBe('72');
    expect(await page.locator('#chart canvas').count()).toBe(1);
    const pages = expectedTop(people, 'acme', shown, 'page_path', { event: '$pageview', limit: 8 }).rows;
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
      people,
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

  /** A page with the key already saved, at the hash given. */
  async function openWithKey(hash: string): Promise<Page> {
    const page = await openPage(1280, 900);
    await page.goto(`${insights.url}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'empty');
    await page.evaluate(
      (key) =>
        localStorage.setItem('insights.projects', JSON.stringify([{ id: 'acme', name: 'Acme Shop', key }])),
      READ_KEY,
    );
    await page.goto(`${insights.url}/#${hash}`);
    await page.reload();
    await ready(page);
    return page;
  }

  const shown = range('2026-11-20T00:00:00Z', '2026-11-23T00:00:00Z');
  const names = (page: Page, table: string) => page.locator(`#${table} td.name`).allTextContents();

  it('shows sources per visit without internal navigation, with Direct / None, and leaves bots out', async () => {
    const page = await openWithKey('from=2026-11-20&to=2026-11-22');
    const sources = expectedVisits(people, 'acme', shown, 'source', 8).rows;
    expect(await names(page, 'top-sources')).toEqual(sources.map((r) => r.value ?? 'Direct / None'));
    expect(await names(page, 'top-sources')).toContain('Direct / None');
    expect(await names(page, 'top-sources')).not.toContain('acme.example.com');
    const entries = expectedVisits(people, 'acme', shown, 'entry_page', 8).rows;
    expect(await names(page, 'top-entry')).toEqual(entries.map((r) => r.value));

    // Crawlers are in the warehouse but not on the dashboard, until asked for.
    const browsers = await names(page, 'top-browsers');
    for (const bot of ['Googlebot', 'curl', 'HeadlessChrome']) expect(browsers).not.toContain(bot);
    expect(await names(page, 'top-events')).not.toContain('$identify');
    // Country names, not codes.
    expect(await names(page, 'top-countries')).toContain('Germany');
    await page.check('#bots');
    await page.waitForFunction(() => location.hash.includes('bots=include'));
    await ready(page);
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(
      integer(expectedSummary(facts, 'acme', shown).current.visitors),
    );
    expect(await names(page, 'top-browsers')).toEqual(
      expectedTop(facts, 'acme', shown, 'browser', { limit: 8 }).rows.map((r) => r.value),
    );
    await page.close();
  });

  it('filters every panel by a clicked row, as a removable chip kept in the URL, and rates a goal', async () => {
    const page = await openWithKey('from=2026-11-20&to=2026-11-22');
    await page.click('#top-countries tr.filterable:has-text("Germany")');
    await page.waitForFunction(() => location.hash.includes('filter=country%3ADE'));
    await ready(page);
    expect(await page.textContent('#filters .chip')).toContain('Country is Germany');
    const germany = audienceFacts(facts, { filters: [['country', 'DE']] });
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(
      integer(expectedSummary(germany, 'acme', shown).current.visitors),
    );
    expect(await names(page, 'top-pages')).toEqual(
      expectedTop(germany, 'acme', shown, 'page_path', { event: '$pageview', limit: 8 }).rows.map(
        (r) => r.value,
      ),
    );
    expect(await names(page, 'top-countries')).toEqual(['Germany']);

    // A goal: the share of the filtered visitors who signed up.
    await page.fill('#goal-input', 'Signed Up');
    await page.click('#goal-add');
    await page.waitForFunction(() => location.hash.includes('goal=event%3ASigned+Up'));
    await ready(page);
    const goal = expectedGoal(germany, 'acme', shown, { event: 'Signed Up' });
    expect(goal.converted).toBeGreaterThan(0);
    expect(await page.textContent('#goals .goal td.rate')).toBe(`${(goal.conversionRate * 100).toFixed(1)}%`);

    // The URL is the view: opened afresh, the same filter and goal.
    const shared = page.url();
    await page.goto('about:blank');
    await page.goto(shared);
    await ready(page);
    expect(await page.textContent('#filters .chip')).toContain('Country is Germany');
    expect(await page.textContent('#goals .goal td.rate')).toBe(`${(goal.conversionRate * 100).toFixed(1)}%`);
    await page.screenshot({ path: 'test-results/dashboard-filtered.png', fullPage: true });

    // CSV of a panel: what it shows.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-csv="top-pages"]'),
    ]);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    expect(csv.split('\r\n')[0]).toBe('Page,Visitors,Events');
    expect(csv.split('\r\n')).toHaveLength(1 + (await names(page, 'top-pages')).length);

    // Removing the chip brings every panel back.
    await page.click('#filters .chip-remove');
    await page.waitForFunction(() => !location.hash.includes('filter='));
    await ready(page);
    expect(await page.isHidden('#filters')).toBe(true);
    expect(await page.textContent('[data-metric="Visitors"] .value')).toBe(
      integer(expectedSummary(people, 'acme', shown).current.visitors),
    );
    await page.close();
  });

  it('says why per hour over 90 days draws nothing, instead of an error over a stale chart', async () => {
    const page = await openWithKey('from=2026-11-20&to=2026-11-22');
    await page.selectOption('#preset', '90');
    await ready(page);
    await page.selectOption('#interval', 'hour');
    await ready(page);
    expect(await page.isHidden('#banner')).toBe(true);
    expect(await page.locator('#chart canvas').count()).toBe(0);
    expect(await page.textContent('#chart')).toContain('Per hour shows at most 31 days');
    await page.close();
  });

  it('logged no errors to the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});
