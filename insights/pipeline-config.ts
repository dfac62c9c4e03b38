/**
 * @module Insights' view of the pipeline file (shared/config/pipeline-config.ts),
 * for `npm run insights -- --config <pipeline file>`: the shared sections and
 * its own `insights` section validated strictly, the edge's and the loader's
 * left to their owners. The config it resolves is the one `npm start` hands
 * insights (deploy/one-machine/plan.ts calls `insightsConfigOfPipeline` too):
 * HiveServer2, or DuckDB over the file's store.
 */
import { deployablePipelineSchema, type PipelineShared, storeOf } from '../shared/config/pipeline-config.ts';
import type { ProjectsSection } from '../shared/config/projects.ts';
import {
  type InsightsConfig,
  type InsightsSection,
  insightsConfigOfSection,
  insightsConfigSchema,
  insightsSectionSchema,
} from './config.ts';

export const insightsPipelineSchema = deployablePipelineSchema('insights', insightsSectionSchema);

/** The keys of insights' own file format: a file with any other pipeline key is the pipeline file. */
export const INSIGHTS_OWN_KEYS: readonly string[] = Object.keys(insightsConfigSchema.shape);

export function insightsConfigOfPipeline(
  config: Pick<PipelineShared, 'dataDir' | 'host' | 'http' | 'store' | 'catalog' | 'tables' | 'logLevel'> & {
    insights: InsightsSection;
  },
  projects: ProjectsSection,
): InsightsConfig {
  // The engine names its dialect: HiveServer2 as configured, or DuckDB over the warehouse's store.
  const engine =
    config.catalog.kind === 'hive' ? config.catalog : { kind: 'duckdb' as const, store: storeOf(config) };
  return insightsConfigOfSection(config.insights, {
    host: config.host,
    projects,
    engine,
    tables: config.tables,
    logLevel: config.logLevel,
    http: config.http,
  });
}
