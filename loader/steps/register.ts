/**
 * @module Step "register": the external tables exist, and each touched
 * hour is a partition pointing at its location (ADD IF NOT EXISTS, so a
 * re-run or a second loader registering the same hour is harmless).
 */
import type { PartitionSpec, TableDef } from '../../shared/catalog/metastore.ts';
import { PARTITION_COLUMNS, TABLE_NAME_KEYS, TABLES } from '../../shared/warehouse.ts';
import { type Hour, hourPartition, type WarehouseTable } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';

export function tableDefs(deps: LoaderDeps): Record<WarehouseTable, TableDef> {
  const { store, settings } = deps;
  const layout = layoutOf(deps);
  const def = (table: WarehouseTable): TableDef => ({
    name: settings.tables[TABLE_NAME_KEYS[table]],
    columns: TABLES[table].columns,
    partitionedBy: [...PARTITION_COLUMNS],
    location: store.location(layout.tableDir(table)),
  });
  const tables = Object.keys(TABLES) as WarehouseTable[];
  return Object.fromEntries(tables.map((table) => [table, def(table)])) as Record<WarehouseTable, TableDef>;
}

export async function ensureTables(deps: LoaderDeps): Promise<void> {
  for (const def of Object.values(tableDefs(deps))) await deps.catalog.ensureTable(def);
}

export function partitionSpec(deps: LoaderDeps, hour: Hour, prefix: string): PartitionSpec {
  return { values: hourPartition(hour), location: deps.store.location(prefix) };
}

/** Registers hours of one table; `prefixOf` gives each hour's location. */
export async function registerHours(
  deps: LoaderDeps,
  table: WarehouseTable,
  hours: Iterable<Hour>,
  prefixOf: (hour: Hour) => Promise<string> | string,
): Promise<void> {
  const specs: PartitionSpec[] = [];
  for (const hour of [...hours].sort((a, b) => a - b))
    specs.push(partitionSpec(deps, hour, await prefixOf(hour)));
  if (specs.length === 0) return;
  await deps.catalog.addPartitions(tableDefs(deps)[table].name, specs);
}
