import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStackEnv } from '../../../test/infra/stack-env.ts';
import { S3ObjectStore } from '../../object-store/s3/s3-object-store.ts';
import type { QueryEngineFixture } from '../contract-fixture.ts';
import { DuckDbCatalog } from '../duckdb/duckdb-catalog.ts';
import { runMetastoreContract } from '../metastore.contract.ts';
import { runQueryEngineContract } from '../query-engine.contract.ts';
import { HiveCatalog } from './hive-catalog.ts';

function s3Store(prefix: string): S3ObjectStore {
  const env = readStackEnv();
  return new S3ObjectStore({
    bucket: env.S3_BUCKET,
    prefix,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
  });
}

function hiveCatalog(overrides: Partial<ConstructorParameters<typeof HiveCatalog>[0]> = {}): HiveCatalog {
  const env = readStackEnv();
  return new HiveCatalog({
    host: env.HIVE_HOST,
    port: env.HIVE_PORT,
    auth: env.HIVE_AUTH,
    poolSize: 2,
    ...overrides,
  });
}

/** A run id that is also a valid table-name prefix. */
function runId(engine: string): string {
  return `it_${engine}_${randomBytes(4).toString('hex')}`;
}

async function hiveOverS3proxy(): Promise<QueryEngineFixture> {
  const id = runId('hive');
  const store = s3Store(`it-catalog-${id}`);
  await store.ensureBucket();
  const catalog = hiveCatalog();
  return {
    metastore: catalog,
    engine: catalog,
    store,
    runId: id,
    cleanup: async (tables) => {
      for (const table of tables) await catalog.dropTable(table);
      await catalog.close();
      await store.deletePrefix('');
      store.close();
    },
  };
}
runMetastoreContract('hive (HiveServer2 + s3proxy)', hiveOverS3proxy);
runQueryEngineContract('hive (HiveServer2 + s3proxy)', hiveOverS3proxy);

async function duckdbOverS3proxy(): Promise<QueryEngineFixture> {
  const id = runId('duck');
  const store = s3Store(`it-catalog-${id}`);
  await store.ensureBucket();
  const workDir = await mkdtemp(join(tmpdir(), 'b2h-duckdb-s3-'));
  const catalog = await DuckDbCatalog.create({ store, workDir, refreshIntervalMs: 0 });
  return {
    metastore: catalog,
    engine: catalog,
    store,
    runId: id,
    cleanup: async () => {
      await catalog.close();
      await store.deletePrefix('');
      store.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
runMetastoreContract('duckdb over s3proxy (files mirrored)', duckdbOverS3proxy);
runQueryEngineContract('duckdb over s3proxy (files mirrored)', duckdbOverS3proxy);

describe('HiveCatalog', () => {
  it('reports a server that does not answer as a retriable error, within the connect deadline', async () => {
    // Nothing listens on port 1: the connection is refused, the pool gives up after its retries.
    const catalog = hiveCatalog({ port: 1, connectTimeoutMs: 2_000, retries: 1 });
    try {
      await expect(catalog.query('SELECT 1 AS one')).rejects.toMatchObject({
        code: 'unavailable',
        retriable: true,
      });
    } finally {
      await catalog.close();
    }
  });

  it('binds parameters into a query without a table', async () => {
    const catalog = hiveCatalog({ poolSize: 1 });
    try {
      expect(await catalog.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(await catalog.query('SELECT ? AS s, ? AS n', ["it's", -2])).toEqual([{ s: "it's", n: -2 }]);
    } finally {
      await catalog.close();
    }
  });

  it('cancels a running statement when the signal aborts', async () => {
    const catalog = hiveCatalog({ poolSize: 1 });
    try {
      const controller = new AbortController();
      // reflect('java.lang.Thread', 'sleep', …) would need extra config; a cross join of a
      // generated table keeps a MapReduce job busy long enough to be cancelled.
      const running = catalog.query(
        'SELECT count(*) AS n FROM (SELECT explode(split(space(20000), " ")) AS a) x ' +
          'CROSS JOIN (SELECT explode(split(space(20000), " ")) AS b) y',
        [],
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 1_000);
      await expect(running).rejects.toMatchObject({ code: 'cancelled' });
      expect(await catalog.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    } finally {
      await catalog.close();
    }
  });
});
