/**
 * @module The loader's three ports, built from its config by the shared
 * factories (shared/adapters.ts) unless the caller already has them.
 */
import { join } from 'node:path';
import { createEventBus, createMetastore, createObjectStore } from '../shared/adapters.ts';
import type { EventBus } from '../shared/bus/bus.ts';
import type { Metastore } from '../shared/catalog/metastore.ts';
import type { Logger } from '../shared/logger.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import type { LoaderConfig } from './config.ts';

export interface LoaderPorts {
  bus: EventBus;
  store: ObjectStore;
  catalog: Metastore;
}

/** Opens the ports `config` names; any the caller already has (one-machine mode shares the bus) are used as they are. */
export async function openPorts(
  config: LoaderConfig,
  logger: Logger,
  given: Partial<LoaderPorts> = {},
): Promise<LoaderPorts> {
  const store = given.store ?? createObjectStore(config.store);
  const bus = given.bus ?? (await createEventBus(config.bus, logger));
  const catalog =
    given.catalog ??
    (await createMetastore(config.catalog, { store, logger, workDir: join(config.tempDir, 'catalog') }));
  return { bus, store, catalog };
}
