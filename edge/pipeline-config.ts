/**
 * @module The edge's view of the pipeline file (shared/config/pipeline-config.ts),
 * for `npm run edge -- --config <pipeline file>`: the shared sections and its
 * own `edge` section validated strictly, the loader's and insights' sections
 * left to their owners. The config it resolves is the one `npm start` hands
 * the edge (deploy/one-machine/plan.ts calls `edgeConfigOfPipeline` too).
 */
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import type { BusConfig } from '../shared/adapters-config.ts';
import type { LocalSecrets } from '../shared/config/data-dir.ts';
import { busOf, deployablePipelineSchema } from '../shared/config/pipeline-config.ts';
import type { ProjectsSection } from '../shared/config/projects.ts';
import {
  EDGE_KAFKA_DEFAULTS,
  type EdgeConfig,
  type EdgeSection,
  edgeConfigOfSection,
  edgeConfigSchema,
  edgeSectionSchema,
} from './config.ts';

export const edgePipelineSchema = deployablePipelineSchema('edge', edgeSectionSchema);
export type EdgePipelineConfig = z.output<typeof edgePipelineSchema>;

/** The keys of the edge's own file format: a file with any other pipeline key is the pipeline file. */
export const EDGE_OWN_KEYS: readonly string[] = [...Object.keys(edgeConfigSchema.shape), 'projectsFile'];

/**
 * The edge's bus from the pipeline file: the `bus` section, with the edge's own producer defaults
 * (EDGE_KAFKA_DEFAULTS) for what it leaves unset, so the edge measured by bench:edge is the edge
 * a pipeline file runs. The loader and insights keep the section's own defaults.
 */
export function edgeBusOfPipeline(config: Pick<EdgePipelineConfig, 'bus' | 'dataDir'>): BusConfig {
  const bus = busOf(config);
  if (bus.kind !== 'kafka') return bus;
  return {
    ...bus,
    client: bus.client ?? EDGE_KAFKA_DEFAULTS.client,
    compression: bus.compression ?? EDGE_KAFKA_DEFAULTS.compression,
  };
}

/** The edge's config from the pipeline file: spool under <dataDir>/spool, secrets from keys.json where unset. */
export function edgeConfigOfPipeline(
  config: Pick<EdgePipelineConfig, 'host' | 'http' | 'bus' | 'dataDir'> & { edge: EdgeSection },
  projects: ProjectsSection,
  secrets: LocalSecrets,
): EdgeConfig {
  return edgeConfigOfSection(config.edge, {
    host: config.host,
    projects,
    topic: config.bus.topic,
    partitions: config.bus.partitions,
    spoolDir: join(resolve(config.dataDir), 'spool'),
    generated: secrets,
    http: config.http,
  });
}
