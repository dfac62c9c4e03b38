/**
 * @module The metastore as one scaled-out pass sees it: each slot's load is
 * its own `runOnce`, which ensures every table, so a pass over k slots and
 * topics would send the same `CREATE … IF NOT EXISTS` and `DESCRIBE` for
 * six tables k times (on HiveServer2 twelve statements a load, a second or
 * more each on a busy metastore, and two processes creating one table at
 * once conflict and retry). This wrapper ensures each table once per pass.
 * Idempotent, so skipping a repeat changes nothing; a failure is not
 * remembered (the next load tries again), and a new pass starts with
 * nothing remembered, so a table dropped by hand comes back at the next
 * pass as before.
 *
 * Partitions are passed through every time: `ADD IF NOT EXISTS` is a no-op
 * on Hive, which lists files at query time, but the DuckDB catalog takes it
 * as a touch that makes readers relist the hour, and a second slot's files
 * in an hour already registered need that touch.
 */
import type { Metastore, TableDef } from '../../shared/catalog/metastore.ts';

export function passCatalog(catalog: Metastore): Metastore {
  const tables = new Map<string, Promise<void>>();
  return {
    ensureTable(table: TableDef) {
      const key = JSON.stringify(table);
      let done = tables.get(key);
      if (!done) {
        done = catalog.ensureTable(table);
        tables.set(key, done);
        done.catch(() => tables.delete(key));
      }
      return done;
    },
    addPartitions: (table, specs) => catalog.addPartitions(table, specs),
    setPartitionLocation: (table, spec) => catalog.setPartitionLocation(table, spec),
    listPartitions: (table) => catalog.listPartitions(table),
    // The pass does not own the catalog: the process closes it.
    close: async () => undefined,
  };
}
