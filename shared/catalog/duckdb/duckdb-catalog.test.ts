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
  const columns = [
    { name: 'project_id', type: 'STRING' as const },
    { name: 'n', type: 'BIGINT' as const },
  ];

  /** A store, and catalogs over it that keep `mat_t` in `databaseFile`; every catalog opened is closed at the end. */
  async function withStore(
    run: (env: {
      store: DirObjectStore;
      open: (options?: { materialized?: boolean; refreshIntervalMs?: number }) => Promise<DuckDbCatalog>;
      /** Writes `select` as the only file of hour `hour` under `dir` (default `t`) and registers it (a replay: setPartitionLocation). */
      put: (catalog: DuckDbCatalog, hour: string, select: string, dir?: string) => Promise<void>;
      databaseFile: string;
    }) => Promise<void>,
  ) {
    const dirs = await tempDirs();
    const store = new DirObjectStore({ root: dirs.data });
    const databaseFile = join(dirs.root, 'keep', 'materialized.duckdb');
    const opened: DuckDbCatalog[] = [];
    const open = async ({ materialized = true, refreshIntervalMs = 0 } = {}) => {
      const catalog = await DuckDbCatalog.create({
        store,
        workDir: dirs.work,
        refreshIntervalMs,
        ...(materialized ? { materializedTables: ['mat_t'], databaseFile } : {}),
      });
      opened.push(catalog);
      return catalog;
    };
    const put = async (catalog: DuckDbCatalog, hour: string, select: string, dir = 't') => {
      const key = `${dir}/dt=2026-11-25/hour=${hour}`;
      await store.put(`${key}/f.parquet`, await parquetOf(select));
      await catalog.setPartitionLocation('mat_t', {
        values: { dt: '2026-11-25', hour },
        location: store.location(key),
      });
    };
    try {
      await run({ store, open, put, databaseFile });
    } finally {
      for (const catalog of opened) await catalog.close();
      await rm(dirs.root, { recursive: true, force: true });
    }
  }

  const ensure = (catalog: DuckDbCatalog, store: DirObjectStore) =>
    catalog.ensureTable({
      name: 'mat_t',
      columns,
      partitionedBy: ['dt', 'hour'],
      location: store.location('t'),
    });
  const rowsOf = async (catalog: DuckDbCatalog) =>
    (await catalog.query('SELECT project_id, n, hour FROM mat_t ORDER BY hour, project_id, n')).map(
      (r) => `${r.project_id}${r.n}@${r.hour}`,
    );

  it('are DuckDB tables in the attached file, the first load sorted by their first column', async () => {
    await withStore(async ({ store, open, put }) => {
      const writer = await open({ materialized: false });
      await ensure(writer, store);
      await put(writer, '01', "SELECT 'b' AS project_id, 1::BIGINT AS n UNION ALL SELECT 'a', 2");
      await put(writer, '02', "SELECT 'a' AS project_id, 3::BIGINT AS n");
      const reader = await open();
      expect(
        await reader.query(
          "SELECT database_name AS db, 'table' AS kind FROM duckdb_tables() WHERE table_name = 'mat_t' UNION ALL SELECT database_name, 'view' FROM duckdb_views() WHERE view_name = 'mat_t' ORDER BY kind",
        ),
      ).toEqual([
        { db: 'materialized', kind: 'table' },
        { db: 'memory', kind: 'view' },
      ]);
      // Storage order of a table copied whole: sorted by project, then partition.
      const rows = await reader.query('SELECT project_id, n, hour FROM mat_t');
      expect(rows.map((r) => `${r.project_id}${r.n}@${r.hour}`)).toEqual(['a2@01', 'a3@02', 'b1@01']);
    });
  });

  it('copy only the partition that changed: the others are not read again', async () => {
    await withStore(async ({ store, open, put }) => {
      const catalog = await open();
      await ensure(catalog, store);
      await put(catalog, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      await put(catalog, '02', "SELECT 'a' AS project_id, 2::BIGINT AS n");
      expect(await rowsOf(catalog)).toEqual(['a1@01', 'a2@02']);
      // Hour 01's file goes: copying the table whole would now lose its row.
      await store.delete(['t/dt=2026-11-25/hour=01/f.parquet']);
      await put(
        catalog,
        '02',
        "SELECT 'a' AS project_id, 20::BIGINT AS n UNION ALL SELECT 'b', 21",
        'replay',
      );
      expect(await rowsOf(catalog)).toEqual(['a1@01', 'a20@02', 'b21@02']);
      // A partition touched (late data, addPartitions again) is relisted and copied again.
      await store.put(
        'replay/dt=2026-11-25/hour=02/g.parquet',
        await parquetOf("SELECT 'c' AS project_id, 22::BIGINT AS n"),
      );
      await catalog.addPartitions('mat_t', [
        {
          values: { dt: '2026-11-25', hour: '02' },
          location: store.location('replay/dt=2026-11-25/hour=02'),
        },
      ]);
      expect(await rowsOf(catalog)).toEqual(['a1@01', 'a20@02', 'b21@02', 'c22@02']);
    });
  });

  it('never show a partition half refreshed to a query running meanwhile', async () => {
    await withStore(async ({ store, open, put }) => {
      // Queries do not wait for the metadata (it is fresh for a minute): they run while a change is applied.
      const catalog = await open({ refreshIntervalMs: 60_000 });
      await ensure(catalog, store);
      // Big enough that copying hour 02 takes a while: queries keep landing while it is refreshed.
      for (const hour of ['01', '02', '03'])
        await put(catalog, hour, "SELECT 'a' AS project_id, 1::BIGINT AS n FROM range(200000)");
      const total = async () => (await catalog.query('SELECT sum(n) AS s FROM mat_t'))[0]?.s;
      expect(await total()).toBe(600_000);
      // Hour 02 replaced by files of the same sum but other rows, while queries run: a query that
      // saw the partition's rows deleted but not yet inserted would count less.
      let replacing = true;
      const seen: unknown[] = [];
      const reading = (async () => {
        while (replacing) seen.push(await total());
      })();
      for (let i = 0; i < 4; i++) {
        const [rows, n] = i % 2 === 0 ? [100_000, 2] : [200_000, 1];
        await put(
          catalog,
          '02',
          `SELECT 'a' AS project_id, ${n}::BIGINT AS n FROM range(${rows})`,
          `replay${i}`,
        );
      }
      replacing = false;
      await reading;
      expect(seen.length).toBeGreaterThan(4);
      expect(new Set(seen)).toEqual(new Set([600_000]));
    });
  });

  it('are refreshed while a long query of other tables runs: it neither waits for it nor holds it back', async () => {
    await withStore(async ({ store, open, put }) => {
      const catalog = await open();
      await ensure(catalog, store);
      await put(catalog, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      const controller = new AbortController();
      let settled = false;
      const long = catalog
        .query('SELECT count(*) AS n FROM range(1000000000000) a', [], { signal: controller.signal })
        .finally(() => {
          settled = true;
        });
      await put(catalog, '01', "SELECT 'a' AS project_id, 2::BIGINT AS n", 'replay');
      expect(await rowsOf(catalog)).toEqual(['a2@01']);
      expect(settled).toBe(false);
      controller.abort();
      await expect(long).rejects.toMatchObject({ code: 'cancelled' });
    });
  });

  it('keep the rows they had when a refresh fails, and try it again at the next change', async () => {
    await withStore(async ({ store, open, put }) => {
      const catalog = await open();
      await ensure(catalog, store);
      await put(catalog, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      await put(catalog, '02', "SELECT 'a' AS project_id, 2::BIGINT AS n");
      // Hour 02 replaced by a file whose n cannot be read as BIGINT: the copy fails halfway,
      // after its old rows were deleted, and the transaction gives them back.
      await put(catalog, '02', "SELECT 'a' AS project_id, 'two' AS n", 'bad');
      expect(await rowsOf(catalog)).toEqual(['a1@01', 'a2@02']);
      await put(catalog, '02', "SELECT 'a' AS project_id, 3::BIGINT AS n", 'fixed');
      expect(await rowsOf(catalog)).toEqual(['a1@01', 'a3@02']);
    });
  });

  it('survive a restart: only the partitions that changed meanwhile are copied again', async () => {
    await withStore(async ({ store, open, put }) => {
      const writer = await open({ materialized: false });
      await ensure(writer, store);
      await put(writer, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      await put(writer, '02', "SELECT 'a' AS project_id, 2::BIGINT AS n");
      const first = await open();
      expect(await rowsOf(first)).toEqual(['a1@01', 'a2@02']);
      await first.close();
      // While insights is down: hour 01's file is overwritten behind the catalog's back (so a copy
      // made again would show it), and hour 02 is replayed.
      await store.put(
        't/dt=2026-11-25/hour=01/f.parquet',
        await parquetOf("SELECT 'a' AS project_id, 100::BIGINT AS n"),
      );
      await put(writer, '02', "SELECT 'b' AS project_id, 3::BIGINT AS n", 'replay');
      const second = await open();
      expect(await rowsOf(second)).toEqual(['a1@01', 'b3@02']);
    });
  });

  it('start afresh over another catalog at the same place (metadata deleted, revisions counted again)', async () => {
    await withStore(async ({ store, open, put }) => {
      const writer = await open({ materialized: false });
      await ensure(writer, store);
      await put(writer, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      const first = await open();
      expect(await rowsOf(first)).toEqual(['a1@01']);
      await first.close();
      await writer.close();
      await store.delete(['_catalog/duckdb-catalog.json', 't/dt=2026-11-25/hour=01/f.parquet']);
      const again = await open({ materialized: false });
      await ensure(again, store);
      // Same partition, same location, same revision numbers as before: only the catalog's id differs.
      await put(again, '01', "SELECT 'z' AS project_id, 9::BIGINT AS n");
      const second = await open();
      expect(await rowsOf(second)).toEqual(['z9@01']);
    });
  });

  it('go from the file when their table is dropped, at once and across a restart', async () => {
    await withStore(async ({ store, open, put }) => {
      const catalog = await open();
      await ensure(catalog, store);
      await put(catalog, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      expect(await rowsOf(catalog)).toEqual(['a1@01']);
      await catalog.dropTable('mat_t');
      await expect(catalog.query('SELECT count(*) AS n FROM mat_t')).rejects.toMatchObject({
        code: 'invalid_query',
      });
      const count = "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'mat_t'";
      expect(await catalog.query(count)).toEqual([{ n: 0 }]);
      await catalog.close();
      const again = await open();
      expect(await again.query(count)).toEqual([{ n: 0 }]);
      // Created again, it starts empty.
      await ensure(again, store);
      expect(await rowsOf(again)).toEqual([]);
    });
  });

  it('gain a column added to later files (schema evolution), older rows reading NULL', async () => {
    await withStore(async ({ store, open, put }) => {
      const catalog = await open();
      await ensure(catalog, store);
      await put(catalog, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      expect(await rowsOf(catalog)).toEqual(['a1@01']);
      await catalog.ensureTable({
        name: 'mat_t',
        columns: [...columns, { name: 'm', type: 'STRING' }],
        partitionedBy: ['dt', 'hour'],
        location: store.location('t'),
      });
      await put(catalog, '02', "SELECT 'a' AS project_id, 2::BIGINT AS n, 'x' AS m");
      expect(await catalog.query('SELECT n, m FROM mat_t ORDER BY n')).toEqual([
        { n: 1, m: null },
        { n: 2, m: 'x' },
      ]);
      // And across a restart, from the file.
      await catalog.close();
      const again = await open();
      expect(await again.query('SELECT n, m FROM mat_t ORDER BY n')).toEqual([
        { n: 1, m: null },
        { n: 2, m: 'x' },
      ]);
    });
  });

  it('fall back to a scratch copy when their file is already open, and answer the same', async () => {
    await withStore(async ({ store, open, put }) => {
      const first = await open();
      await ensure(first, store);
      await put(first, '01', "SELECT 'a' AS project_id, 1::BIGINT AS n");
      const second = await open();
      expect(await rowsOf(second)).toEqual(['a1@01']);
      expect(await rowsOf(first)).toEqual(['a1@01']);
    });
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
