import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { CatalogError } from '../../errors.ts';
import { DirObjectStore } from '../../object-store/dir/dir-object-store.ts';
import type { ObjectInfo, ObjectStore, PutOptions, StoreLocation } from '../../object-store/object-store.ts';
import { CONTRACT_COLUMNS, type QueryEngineFixture } from '../contract-fixture.ts';
import { runMetastoreContract } from '../metastore.contract.ts';
import { runQueryEngineContract } from '../query-engine.contract.ts';
import { DuckDbCatalog } from './duckdb-catalog.ts';

/**
 * A directory store that locates its keys in an S3 bucket, so the
 * catalog must fetch files through the store as it does for real S3: the
 * mirrored read path without a server (the real one runs in the integration test).
 */
class RemoteNamedStore implements ObjectStore {
  private readonly inner: DirObjectStore;
  constructor(inner: DirObjectStore) {
    this.inner = inner;
  }
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions) {
    return this.inner.put(key, body, options);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(keys: string[]) {
    return this.inner.delete(keys);
  }
  getStream(key: string) {
    return this.inner.getStream(key);
  }
  location(key: string): StoreLocation {
    return { kind: 's3', bucket: 'test-bucket', key };
  }
}

/** Parquet bytes of one SELECT, written by a scratch DuckDB. */
async function parquetOf(select: string): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (${select}) TO '${join(dir, 'f.parquet')}' (FORMAT parquet)`);
    return await readFile(join(dir, 'f.parquet'));
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

async function tempDirs() {
  const root = await mkdtemp(join(tmpdir(), 'b2h-duckdb-catalog-'));
  return { root, data: join(root, 'data'), work: join(root, 'work') };
}

/**
 * A DuckDB catalog over a fresh directory store, as both contracts take it: `remote` wraps the
 * store so its files are named by URL (DuckDB mirrors them), `materializedTables` keeps those
 * tables as DuckDB tables (as insights keeps the rollups) instead of views.
 */
function duckdbFixture(
  runId: string,
  options: { remote?: boolean; materializedTables?: string[] } = {},
): () => Promise<QueryEngineFixture> {
  return async () => {
    const dirs = await tempDirs();
    const directory = new DirObjectStore({ root: dirs.data });
    const store = options.remote ? new RemoteNamedStore(directory) : directory;
    const catalog = await DuckDbCatalog.create({
      store,
      workDir: dirs.work,
      refreshIntervalMs: 0,
      materializedTables: options.materializedTables,
    });
    return {
      metastore: catalog,
      engine: catalog,
      store,
      runId,
      cleanup: async () => {
        await catalog.close();
        await rm(dirs.root, { recursive: true, force: true });
      },
    };
  };
}
const duckdbMaterialized = duckdbFixture('mat', { materializedTables: ['mat_t', 'mat_m'] });

for (const [name, fixture] of [
  ['duckdb over a directory store', duckdbFixture('duck')],
  ['duckdb over a remote store (files mirrored)', duckdbFixture('remote', { remote: true })],
  ['duckdb with materialized tables', duckdbMaterialized],
] as const) {
  runMetastoreContract(name, fixture);
  runQueryEngineContract(name, fixture);
}

describe('materialized tables', () => {
  it('are DuckDB tables sorted by their first column, refreshed when a partition changes', async () => {
    const fixture = await duckdbMaterialized();
    const catalog = fixture.engine as DuckDbCatalog;
    try {
      const columns = [
        { name: 'project_id', type: 'STRING' as const },
        { name: 'n', type: 'BIGINT' as const },
      ];
      await catalog.ensureTable({
        name: 'mat_t',
        columns,
        partitionedBy: ['dt', 'hour'],
        location: fixture.store.location('t'),
      });
      const add = async (hour: string, select: string) => {
        await fixture.store.put(`t/dt=2026-11-25/hour=${hour}/f.parquet`, await parquetOf(select));
        await catalog.addPartitions('mat_t', [
          {
            values: { dt: '2026-11-25', hour },
            location: fixture.store.location(`t/dt=2026-11-25/hour=${hour}`),
          },
        ]);
      };
      await add('01', "SELECT 'b' AS project_id, 1::BIGINT AS n UNION ALL SELECT 'a', 2");
      await add('02', "SELECT 'a' AS project_id, 3::BIGINT AS n");
      const kinds = await catalog.query(
        "SELECT table_name FROM duckdb_tables() WHERE table_name = 'mat_t' UNION ALL SELECT view_name FROM duckdb_views() WHERE view_name = 'mat_t'",
      );
      expect(kinds).toEqual([{ table_name: 'mat_t' }]);
      // Storage order: sorted by project, then partition.
      const rows = await catalog.query('SELECT project_id, n, hour FROM mat_t');
      expect(rows.map((r) => `${r.project_id}${r.n}@${r.hour}`)).toEqual(['a2@01', 'a3@02', 'b1@01']);
    } finally {
      await fixture.cleanup(['mat_t']);
    }
  });
});

describe('DuckDbCatalog', () => {
  async function withCatalogs(
    run: (a: DuckDbCatalog, b: DuckDbCatalog, store: DirObjectStore) => Promise<void>,
  ) {
    const dirs = await tempDirs();
    const store = new DirObjectStore({ root: dirs.data });
    const a = await DuckDbCatalog.create({ store, workDir: dirs.work, refreshIntervalMs: 0 });
    const b = await DuckDbCatalog.create({ store, workDir: dirs.work, refreshIntervalMs: 60_000 });
    try {
      await run(a, b, store);
    } finally {
      await a.close();
      await b.close();
      await rm(dirs.root, { recursive: true, force: true });
    }
  }

  it("picks up another instance's partitions from the shared metadata", async () => {
    await withCatalogs(async (writer, reader, store) => {
      await writer.ensureTable({
        name: 'shared_t',
        columns: CONTRACT_COLUMNS,
        partitionedBy: ['dt', 'hour'],
        location: store.location('t'),
      });
      await writer.addPartitions('shared_t', [
        { values: { dt: '2026-11-25', hour: '01' }, location: store.location('t/a') },
      ]);
      await reader.refresh();
      expect(await reader.listPartitions('shared_t')).toEqual([{ dt: '2026-11-25', hour: '01' }]);
      expect(await reader.query('SELECT count(*) AS n FROM shared_t')).toEqual([{ n: 0 }]);
    });
  });

  it('relists a partition whose file went away instead of failing', async () => {
    await withCatalogs(async (catalog, _b, store) => {
      await catalog.ensureTable({
        name: 'gone_t',
        columns: [{ name: 'x', type: 'BIGINT' }],
        partitionedBy: ['dt'],
        location: store.location('g'),
      });
      await catalog.addPartitions('gone_t', [{ values: { dt: 'a' }, location: store.location('g/dt=a') }]);
      await store.put('g/dt=a/one.parquet', await parquetOf('SELECT 1::BIGINT AS x'));
      await catalog.addPartitions('gone_t', [{ values: { dt: 'a' }, location: store.location('g/dt=a') }]);
      expect(await catalog.query('SELECT count(*) AS n FROM gone_t')).toEqual([{ n: 1 }]);
      await store.delete(['g/dt=a/one.parquet']);
      expect(await catalog.query('SELECT count(*) AS n FROM gone_t')).toEqual([{ n: 0 }]);
    });
  });

  it('is sandboxed: no reading outside its directories, no statements but SELECT', async () => {
    await withCatalogs(async (catalog) => {
      await expect(catalog.query("SELECT * FROM read_csv('/etc/passwd')")).rejects.toThrow(/Permission/);
      await expect(catalog.query("COPY (SELECT 1) TO '/tmp/x.csv'")).rejects.toMatchObject({
        code: 'invalid_query',
      });
      await expect(catalog.query('SET enable_external_access = true')).rejects.toBeInstanceOf(CatalogError);
      await expect(catalog.query('SELECT 1 AS a; SELECT 2 AS b')).rejects.toBeInstanceOf(CatalogError);
    });
  });

  it('refuses local locations outside its data directories', async () => {
    await withCatalogs(async (catalog, _b, store) => {
      await catalog.ensureTable({
        name: 'outside_t',
        columns: CONTRACT_COLUMNS,
        partitionedBy: ['dt'],
        location: store.location('t'),
      });
      await expect(
        catalog.addPartitions('outside_t', [
          { values: { dt: 'x' }, location: { kind: 'dir', path: '/etc' } },
        ]),
      ).rejects.toMatchObject({ code: 'unsupported_location' });
    });
  });

  it('cancels a running query when its signal aborts', async () => {
    await withCatalogs(async (catalog) => {
      const controller = new AbortController();
      const running = catalog.query('SELECT count(*) AS n FROM range(1000000000000) a', [], {
        signal: controller.signal,
      });
      setImmediate(() => controller.abort());
      await expect(running).rejects.toMatchObject({ code: 'cancelled' });
      expect(await catalog.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });
  });
});
