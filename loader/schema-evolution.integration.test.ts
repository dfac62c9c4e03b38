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
import { EVOLVED_ROWS, runSchemaEvolution } from './fixtures/schema-evolution.ts';

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
    expect(rows).toEqual(EVOLVED_ROWS);
  });
});
