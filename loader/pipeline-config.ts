/**
 * @module The loader's view of the pipeline file (shared/config/pipeline-config.ts),
 * for `npm run loader -- --config <pipeline file> …`: the shared sections
 * (bus, store, catalog, tables, dataDir …) and its own `loader` section
 * validated strictly, the edge's and insights' sections left to their
 * owners. The config it resolves is the one `npm start` hands the loader
 * (deploy/one-machine/plan.ts calls `loaderConfigOfPipeline` too): the local
 * log under <dataDir>/bus, the warehouse under <dataDir>/warehouse, scratch
 * space under <dataDir>/tmp.
 */
import { join, resolve } from 'node:path';
import {
  busOf,
  catalogOf,
  deployablePipelineSchema,
  type PipelineShared,
  storeOf,
} from '../shared/config/pipeline-config.ts';
import {
  type LoaderConfig,
  type LoaderSection,
  loaderConfigOfSection,
  loaderConfigSchema,
  loaderSectionSchema,
} from './config.ts';

export const loaderPipelineSchema = deployablePipelineSchema('loader', loaderSectionSchema);

/** The keys of the loader's own file format: a file with any other pipeline key is the pipeline file. */
export const LOADER_OWN_KEYS: readonly string[] = Object.keys(loaderConfigSchema.shape);

export function loaderConfigOfPipeline(
  config: Pick<PipelineShared, 'dataDir' | 'bus' | 'store' | 'catalog' | 'tables' | 'logLevel'> & {
    loader: LoaderSection;
  },
): LoaderConfig {
  return loaderConfigOfSection(config.loader, {
    topic: config.bus.topic,
    tables: config.tables,
    tempDir: join(resolve(config.dataDir), 'tmp', 'loader'),
    logLevel: config.logLevel,
    bus: busOf(config),
    store: storeOf(config),
    catalog: catalogOf(config),
  });
}
