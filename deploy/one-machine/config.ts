/**
 * @module The one-machine process's configuration: the pipeline file with
 * every section validated (shared/config/pipeline-config.ts for the shared
 * ones, each deployable's own for `edge`, `loader` and `insights`), layered
 * as defaults ← file (`--config` or BEACON_CONFIG) ← environment ← flags.
 * Exported so tests resolve a configuration in-process, as `--check` does.
 */

import type { z } from 'zod';
import { edgeSectionSchema } from '../../edge/config.ts';
import { insightsSectionSchema } from '../../insights/config.ts';
import { loaderSectionSchema } from '../../loader/config.ts';
import {
  demoOrigins,
  loadPipelineConfig,
  type PipelineFlags,
  pipelineConfigSchema,
} from '../../shared/config/pipeline-config.ts';

const oneMachineConfigSchema = pipelineConfigSchema({
  edge: edgeSectionSchema,
  loader: loaderSectionSchema,
  insights: insightsSectionSchema,
});
export type OneMachineConfig = z.output<typeof oneMachineConfigSchema>;

/** The command line of `npm start`. */
export interface CliOptions extends PipelineFlags {
  config?: string | undefined;
  check?: boolean | undefined;
}

/** Defaults ← file ← environment ← command line, validated once; a ConfigError names every bad field. */
export function loadOneMachineConfig(cli: CliOptions, env: NodeJS.ProcessEnv): OneMachineConfig {
  return loadPipelineConfig(oneMachineConfigSchema, {
    path: cli.config ?? env.BEACON_CONFIG,
    env,
    flags: cli,
  });
}

/** The demo project's origins as the edge will allow them: its ports and the dashboard's. */
function oneMachineDemoOrigins(config: OneMachineConfig): string[] {
  return demoOrigins(config, { edge: config.edge.port, insights: config.insights.port });
}

/** What `--check` prints (keys and secrets hidden by the caller): the demo project's origins resolved. */
export function checkView(config: OneMachineConfig): unknown {
  return { ...config, demoProject: config.demoProject && { allowedOrigins: oneMachineDemoOrigins(config) } };
}
