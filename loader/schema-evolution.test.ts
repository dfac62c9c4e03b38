/**
 * Schema evolution on the embedded ports (local log, directory store, DuckDB
 * catalog): an hour loaded before the newest columns existed, the upgrade,
 * another hour; the old hour reads the new columns as NULL and the load never
 * breaks. The same scenario runs on the real stack in
 * schema-evolution.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { embeddedLoaderPerTest } from './fixtures/embedded-ports.ts';
import { EVOLVED_ROWS, runSchemaEvolution } from './fixtures/schema-evolution.ts';

describe('schema evolution (embedded ports)', () => {
  const e = embeddedLoaderPerTest('b2h-evolution');

  it('loads after the upgrade; the old hour reads the new columns as NULL', async () => {
    const { rows } = await runSchemaEvolution(e().h, (name) => e().catalog.dropTable(name));
    expect(rows).toEqual(EVOLVED_ROWS);
  });
});
