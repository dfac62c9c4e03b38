/**
 * @module The suite every Metastore adapter passes (`runMetastoreContract`):
 * tables created idempotently, partitions added idempotently and listed in
 * order, a location swapped (or a partition added by the swap), bad names and
 * values refused. What the engines then read is the query-engine contract's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTRACT_COLUMNS,
  expectCatalogError,
  HOUR_09,
  HOUR_10,
  HOUR_11,
  type MetastoreFixture,
} from './contract-fixture.ts';
import type { Metastore, PartitionSpec } from './metastore.ts';

export function runMetastoreContract(name: string, factory: () => Promise<MetastoreFixture>): void {
  describe(`Metastore contract: ${name}`, () => {
    let fixture: MetastoreFixture;
    let metastore: Metastore;
    let table: string;
    let base: string;
    const partition = (values: Record<string, string>, dir: string): PartitionSpec => ({
      values,
      location: fixture.store.location(`${base}/${dir}/dt=${values.dt}/hour=${values.hour}`),
    });

    beforeAll(async () => {
      fixture = await factory();
      metastore = fixture.metastore;
      // Its own table and prefix: the query-engine contract may run on the same adapter.
      table = `${fixture.runId}_m`;
      base = `metastore-${fixture.runId}`;
    });
    afterAll(async () => {
      await fixture?.cleanup([table]);
    });

    it('creates the table idempotently; it starts with no partitions', async () => {
      const def = {
        name: table,
        columns: CONTRACT_COLUMNS,
        partitionedBy: ['dt', 'hour'],
        location: fixture.store.location(`${base}/t`),
      };
      await metastore.ensureTable(def);
      await metastore.ensureTable(def);
      expect(await metastore.listPartitions(table)).toEqual([]);
    });

    it('adds partitions idempotently and lists them in order', async () => {
      const parts = [partition(HOUR_10, 't'), partition(HOUR_09, 't')];
      await metastore.addPartitions(table, parts);
      await metastore.addPartitions(table, parts);
      expect(await metastore.listPartitions(table)).toEqual([HOUR_09, HOUR_10]);
    });

    it('swaps a partition to a new location, and adds one that did not exist', async () => {
      await metastore.setPartitionLocation(table, partition(HOUR_09, 'replay'));
      await metastore.setPartitionLocation(table, partition(HOUR_11, 't'));
      expect(await metastore.listPartitions(table)).toEqual([HOUR_09, HOUR_10, HOUR_11]);
    });

    it('refuses bad input with CatalogErrors', async () => {
      await expectCatalogError(
        metastore.addPartitions(table, [
          { values: { dt: '2026-11-25' }, location: fixture.store.location(`${base}/x`) },
        ]),
      );
      await expectCatalogError(
        metastore.addPartitions(table, [
          { values: { dt: "2026'", hour: '00' }, location: fixture.store.location(`${base}/x`) },
        ]),
      );
      await expectCatalogError(
        metastore.ensureTable({
          name: 'bad-name',
          columns: CONTRACT_COLUMNS,
          partitionedBy: [],
          location: fixture.store.location(`${base}/x`),
        }),
      );
    });
  });
}
