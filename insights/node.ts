/**
 * @module The insights service on Node: `node insights/node.ts --config insights.json`
 * (or INSIGHTS_CONFIG=<file>). Serves until SIGTERM or SIGINT, then drains.
 * `--check` validates the configuration, prints it (secrets hidden) and exits.
 */
import { Command } from 'commander';
import { configForDisplay } from '../shared/config-display.ts';
import { createLogger } from '../shared/logger.ts';
import { stopOnSignals } from '../shared/runtime/signals.ts';
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
  const logger = createLogger('insights', config.logLevel);
  const running = await startInsights(config, { logger });
  await stopOnSignals(() => running.close(), {
    logger,
    stopping: 'stopping: letting requests in flight finish',
  });
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`insights: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
