/**
 * @module Each deployable's config from the one pipeline file, validated
 * before anything opens a port: the same functions the deployables use when
 * they run alone on that file (edge/, loader/, insights/ pipeline-config.ts),
 * so `npm start` and `npm run <deployable> -- --config <file>` agree.
 */
import { resolve } from 'node:path';
import { edgeConfigOfPipeline } from '../../edge/pipeline-config.ts';
import { insightsConfigOfPipeline } from '../../insights/pipeline-config.ts';
import { loaderConfigOfPipeline } from '../../loader/pipeline-config.ts';
import { dataDirSecrets, pipelineProjects } from '../../shared/config/data-dir.ts';
import type { OneMachineConfig } from './config.ts';

export async function plan(config: OneMachineConfig) {
  const dataDir = resolve(config.dataDir);
  const secrets = await dataDirSecrets(dataDir);
  const projects = pipelineProjects(config, secrets);
  const edge = edgeConfigOfPipeline(config, projects, secrets);
  const loader = loaderConfigOfPipeline(config);
  const insights = insightsConfigOfPipeline(config, projects);
  return { config, dataDir, secrets, edge, loader, insights };
}

export type Plan = Awaited<ReturnType<typeof plan>>;
