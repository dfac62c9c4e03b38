/**
 * @module The insights service on Node: `node insights/node.ts --config insights.json`
 * (or INSIGHTS_CONFIG=<file>). Serves until SIGTERM or SIGINT, then drains.
 * `--check` validates the configuration, prints it (secrets hidden) and exits.
 */
import { Command } from 'commander';
import { configForDisplay } from '../shared/config-display.ts';
import { readInsightsConfig } from './config.ts';
import { startInsights } from './start.ts';

export { type RunningInsights, startInsights } from './start.ts';

async function main(argv: string[]): Promise<void> {
  const program = new Command('insights')
    .description('Insights API and dashboard over the warehouse')
    .option('-c, --config <file>', 'JSON config file', process.env.INSIGHTS_CONFIG)
    .option('--check', 'validate the configuration, print it (secrets hidden) and exit')
    .parse(argv);
  const { config: file, check } = program.opts<{ config?: string; check?: boolean }>();
  if (!file) program.error('give --config <file> or set INSIGHTS_CONFIG');
  const config = await readInsightsConfig(file as string);
  if (check) {
    process.stdout.write(configForDisplay(config));
    return;
  }
  const running = await startInsights(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`insights: ${signal}, draining\n`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`insights: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`insights: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
