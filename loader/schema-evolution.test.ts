/**
 * Schema evolution on the embedded ports (local log, directory store, DuckDB
 * catalog): an hour loaded before the newest columns existed, the upgrade,
 * another hour; the old hour reads the new columns as NULL and the load never
 * breaks. The same scenario runs on the real stack in
 * schema-evolution.integration.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedLoader, embeddedLoader } from './fixtures/embedded-ports.ts';
import { NEW_COLUMNS, runSchemaEvolution } from './fixtures/schema-evolution.ts';

describe('schema evolution (embedded ports)', () => {
  let e: EmbeddedLoader;
  beforeEach(async () => {
    e = await embeddedLoader('b2h-evolution');
  });
  afterEach(() => e.close());

  it('loads after the upgrade; the old hour reads the new columns as NULL', async () => {
    const { rows } = await runSchemaEvolution(e.h, (name) => e.catalog.dropTable(name));
    const nulls = Object.fromEntries(NEW_COLUMNS.map((c) => [c, null]));
    expect(rows).toEqual([
      { hour: '09', message_id: 'old-1', ...nulls },
      { hour: '09', message_id: 'old-2', ...nulls },
      {
        hour: '10',
        message_id: 'new-1',
        ...nulls,
        name: 'Pricing',
        category: 'Docs',
        channel: 'web',
        integrations: '{"All":true}',
        original_timestamp: '2026-11-25 10:10:00.000000',
      },
    ]);
  });
});
