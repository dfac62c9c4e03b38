/**
 * @module Takes the README's dashboard screenshot: opens the dashboard of a
 * running one-machine process (run `npm run demo` first, with `npm start`
 * running), enters the demo read key as a user would, asks for the demo's
 * sign-up funnel and its last step as a goal, waits until every panel has
 * answered, and saves a PNG.
 *
 *   node test/demo/screenshot.ts [--data-dir ./data] [--days 14] [--out test/demo/dashboard.png]
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { launchChromium } from '../infra/chromium.ts';
import { readRunInfo } from './one-machine.ts';
import { DEMO_FUNNEL } from './traffic.ts';

const DAY_MS = 86_400_000;

async function main(argv: string[]): Promise<void> {
  const options = new Command('screenshot')
    .option('--data-dir <dir>', 'data directory of the running process', './data')
    .option('--days <n>', 'days before today to show', Number, 14)
    .option('--out <file>', 'PNG to write', fileURLToPath(new URL('./dashboard.png', import.meta.url)))
    .parse(argv)
    .opts<{ dataDir: string; days: number; out: string }>();
  const run = await readRunInfo(options.dataDir);
  if (!run) throw new Error(`no one-machine process runs on ${options.dataDir}: start it with npm start`);
  const now = Date.now();
  const from = new Date(Math.floor(now / DAY_MS) * DAY_MS - options.days * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(now).toISOString().slice(0, 10);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const goal = new URLSearchParams({ goal: `event:${DEMO_FUNNEL[DEMO_FUNNEL.length - 1]}` });
    await page.goto(
      `${run.insightsUrl}/#project=${run.project.id}&from=${from}&to=${to}&interval=day&${goal}`,
    );
    await page.click('#empty-add');
    await page.fill('#key-input', run.project.readKey);
    await page.click('#key-submit');
    const settled = () =>
      page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), undefined, {
        timeout: 300_000,
      });
    await settled();
    if ((await page.evaluate(() => document.body.dataset.state)) === 'error')
      throw new Error(`the dashboard showed an error: ${await page.textContent('#banner')}`);
    await page.fill('#funnel-steps', DEMO_FUNNEL.join(', '));
    await page.press('#funnel-steps', 'Enter');
    await page.waitForFunction(
      (last) => document.querySelector('#funnel')?.textContent?.includes(last),
      DEMO_FUNNEL[DEMO_FUNNEL.length - 1] as string,
      { timeout: 300_000 },
    );
    await page.screenshot({ path: options.out, fullPage: true });
    process.stdout.write(`saved ${options.out}\n`);
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`screenshot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
