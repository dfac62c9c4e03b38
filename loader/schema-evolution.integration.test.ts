/**
 * Schema evolution on the real stack: Kafka, s3proxy and HiveServer2 (the
 * table gains its columns by ALTER TABLE … ADD COLUMNS … CASCADE). The same
 * scenario as schema-evolution.test.ts on the embedded ports, with the same
 * answer through HiveServer2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printServerLogsOnFailure } from '../test/infra/server-logs.ts';
import { readStackEnv } from '../test/infra/stack-env.ts';
import { type LoaderHarness, loaderHarness } from './fixtures/loader-harness.ts';
import { cleanupRealHarness, openRealPorts, type RealPorts } from './fixtures/real-ports.ts';
import { NEW_COLUMNS, runSchemaEvolution } from './fixtures/schema-evolution.ts';

printServerLogsOnFailure(['kafka', 's3', 'hive']);

describe('schema evolution (Kafka, s3proxy, HiveServer2)', () => {
  let ports: RealPorts;
  let h: LoaderHarness | undefined;
  beforeAll(async () => {
    ports = await openRealPorts(readStackEnv());
  });
  afterAll(async () => {
    if (h) await cleanupRealHarness(ports, h.deps.settings);
    await ports?.close();
  });

  it('loads after the upgrade; the old hour reads the new columns as NULL', {
    timeout: 600_000,
  }, async () => {
    h = await loaderHarness(ports);
    const { rows } = await runSchemaEvolution(h, (name) => ports.catalog.dropTable(name));
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
