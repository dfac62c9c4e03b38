/**
 * @module The insights service on Node: `node insights/node.ts --config insights.json`
 * (or INSIGHTS_CONFIG=<file>). Serves until SIGTERM or SIGINT, then drains.
 * `--check` validates the configuration, prints it (secrets hidden) and exits.
 * `--config` takes insights' own file or the pipeline file `npm start` reads
 * (pipeline-config.ts: then configured as `npm start` configures it).
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { readConfigFile } from '../shared/config/config-file.ts';
import { dataDirSecrets, pipelineProjects } from '../shared/config/data-dir.ts';
import { isPipelineFile, loadPipelineConfig } from '../shared/config/pipeline-config.ts';
import { configForDisplay } from '../shared/config-display.ts';
import { createLogger } from '../shared/logger.ts';
import { runEntry } from '../shared/runtime/entry.ts';
import { stopOnSignals } from '../shared/runtime/signals.ts';
import { type InsightsConfig, parseInsightsConfig } from './config.ts';
import { INSIGHTS_OWN_KEYS, insightsConfigOfPipeline, insightsPipelineSchema } from './pipeline-config.ts';
import { startInsights } from './start.ts';

export { type RunningInsights, startInsights } from './start.ts';

async function main(argv: string[]): Promise<void> {
  const program = new Command('insights')
    .description('Insights API and dashboard over the warehouse')
    .option(
      '-c, --config <file>',
      "JSON config file: insights' own, or the pipeline file npm start reads",
      process.env.INSIGHTS_CONFIG,
    )
    .option('--check', 'validate the configuration, print it (secrets hidden) and exit')
    .parse(argv);
  const { config: path, check } = program.opts<{ config?: string; check?: boolean }>();
  if (!path) program.error('give --config <file> or set INSIGHTS_CONFIG');
  const file = readConfigFile(path as string);
  if (isPipelineFile(file, INSIGHTS_OWN_KEYS)) {
    const pipeline = loadPipelineConfig(insightsPipelineSchema, { path, file, env: process.env });
    if (check) {
      process.stdout.write(configForDisplay(pipeline));
      return;
    }
    // The demo project's read key is in <dataDir>/keys.json, made by the first run of any entry.
    const secrets = await dataDirSecrets(resolve(pipeline.dataDir));
    await serve(insightsConfigOfPipeline(pipeline, pipelineProjects(pipeline, secrets)));
    return;
  }
  const config = parseInsightsConfig(file);
  if (check) {
    process.stdout.write(configForDisplay(config));
    return;
  }
  await serve(config);
}

async function serve(config: InsightsConfig): Promise<void> {
  const logger = createLogger('insights', config.logLevel);
  const running = await startInsights(config, { logger });
  await stopOnSignals(() => running.close(), {
    logger,
    stopping: 'stopping: letting requests in flight finish',
  });
}

if (import.meta.main) runEntry('insights', () => main(process.argv));
