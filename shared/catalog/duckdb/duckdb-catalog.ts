/**
 * @module The metastore and query-engine ports on embedded DuckDB (`@duckdb/node-api`, in
 * process): one-machine mode, and a second engine for insights. It keeps its
 * own metastore (duckdb-metadata.ts) in the object store and answers each
 * table with a view over the partitions' Parquet files (duckdb-views.ts) read
 * through a per-process farm (duckdb-read-farm.ts). Replacing a view is one
 * catalog transaction in DuckDB, so a partition's location swaps atomically
 * for readers. Rows come back in the format of row-format.ts, as from Hive.
 *
 * Another process's changes (the loader's) are picked up by re-reading the
 * metadata at most every `refreshIntervalMs` before a query.
 *
 * The engine is sandboxed (duckdb-engine.ts) and `query` runs only SELECT
 * statements (duckdb-query.ts).
 *
 * Over 300 lines: the metadata cache, refresh and view replacement are one
 * state machine that both ports read; the pieces without that state already
 * live in the duckdb-*.ts files beside it.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import pMap from 'p-map';
import { CatalogError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { ObjectStore, StoreLocation } from '../../object-store/object-store.ts';
import { duckdbIdentifier } from '../../sql/identifier.ts';
import type { Metastore, PartitionSpec, TableDef } from '../metastore.ts';
import { assertLocation, assertTableDef, partitionName, partitionValues } from '../partition-spec.ts';
import type { QueryEngine, QueryOptions, Row, SqlValue } from '../query-engine.ts';
import { SessionPool } from '../session-pool.ts';
import { type DuckDbEngine, openDuckDbEngine } from './duckdb-engine.ts';
import { duckdbLocation, storedLocation } from './duckdb-location.ts';
import { type CatalogMetadata, MetadataFile, type StoredTable } from './duckdb-metadata.ts';
import { runSelect } from './duckdb-query.ts';
import { ReadFarm } from './duckdb-read-farm.ts';
import { duckdbString, materializedTableSql, type SchemaGroup, viewSql } from './duckdb-views.ts';

export interface DuckDbCatalogOptions {
  /** Holds the metadata object and, for remote locations, the partition files. */
  store: ObjectStore;
  /** Key of the metadata object in `store`. Default `_catalog/duckdb-catalog.json`. */
  metadataKey?: string;
  /** Parent of this process's scratch directory (read farm, spill files). Default: the OS temp dir. */
  workDir?: string;
  /** Local directories partition locations may point into. Default: the store's root when it is local. */
  dataDirectories?: string[];
  /** How stale another process's changes may be, in ms; 0 re-reads the metadata before every query. Default 1000. */
  refreshIntervalMs?: number;
  /** Queries running at once. Default 4. */
  connections?: number;
  /** Default 60 s; the caller's signal can end a query sooner. */
  queryTimeoutMs?: number;
  threads?: number;
  /** DuckDB's memory_limit, e.g. '2GB'. */
  memoryLimit?: string;
  /**
   * Tables (catalog names) kept as DuckDB tables, sorted by their first column,
   * instead of views over their files: small, hot tables such as the rollups.
   * Rebuilt whole when their partitions change (queries wait for that).
   */
  materializedTables?: readonly string[];
  logger?: Logger;
}

interface PartitionFiles {
  revision: number;
  location: string;
  files: string[];
}

const LISTING_CONCURRENCY = 8;

export class DuckDbCatalog implements Metastore, QueryEngine {
  private readonly metadataFile: MetadataFile;
  private readonly farm: ReadFarm;
  private readonly engine: DuckDbEngine;
  private readonly admin: DuckDBConnection;
  private readonly pool: SessionPool<DuckDBConnection>;
  private readonly dataDirectories: string[];
  private readonly refreshIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly materializedTables: ReadonlySet<string>;

  private metadata: CatalogMetadata = { format: 1, revision: 0, tables: {} };
  private metadataText: string | null = null;
  private lastCheck = 0;
  private readonly partitionFiles = new Map<string, Map<string, PartitionFiles>>();
  /** Per table, the column list its view was built with: a table that gained columns needs a new view. */
  private readonly viewColumns = new Map<string, string>();
  /** Per table, the farm files of the current view and of the one before (still readable by queries in flight). */
  private readonly viewGenerations = new Map<string, { current: Set<string>; previous: Set<string> }>();
  private serialTail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(parts: {
    options: DuckDbCatalogOptions;
    engine: DuckDbEngine;
    dataDirectories: string[];
  }) {
    const { options } = parts;
    this.metadataFile = new MetadataFile(
      options.store,
      options.metadataKey ?? '_catalog/duckdb-catalog.json',
    );
    this.engine = parts.engine;
    this.admin = parts.engine.admin;
    this.farm = new ReadFarm({ root: join(parts.engine.scratchDir, 'farm'), store: options.store });
    this.dataDirectories = parts.dataDirectories;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 60_000;
    this.logger = options.logger;
    this.materializedTables = new Set(options.materializedTables ?? []);
    this.pool = new SessionPool({
      max: options.connections ?? 4,
      create: () => this.engine.instance.connect(),
      destroy: async (connection) => connection.closeSync(),
    });
  }

  static async create(options: DuckDbCatalogOptions): Promise<DuckDbCatalog> {
    const root = options.store.location('');
    const storeRoot = root.kind === 'dir' ? root.path : null;
    const dataDirectories = (options.dataDirectories ?? (storeRoot ? [storeRoot] : [])).map((d) =>
      resolve(d),
    );
    const engine = await openDuckDbEngine({
      workDir: options.workDir ?? join(tmpdir(), 'beacon-to-hive-duckdb'),
      dataDirectories,
      threads: options.threads,
      memoryLimit: options.memoryLimit,
    });
    return new DuckDbCatalog({ options, engine, dataDirectories });
  }

  async ensureTable(table: TableDef): Promise<void> {
    assertTableDef(table);
    await this.change((metadata) => {
      const existing = metadata.tables[table.name];
      if (existing) {
        // IF NOT EXISTS, as on Hive; and ADD COLUMNS for the ones it lacks (the view reads them as NULL from older files).
        const known = new Set(existing.columns.map((c) => c.name));
        const missing = table.columns.filter((c) => !known.has(c.name));
        for (const c of missing) existing.columns.push({ name: c.name, type: c.type });
        if (missing.length > 0)
          this.logger?.info(
            { table: table.name, columns: missing.map((c) => c.name) },
            'catalog table gained columns',
          );
        return missing.length > 0;
      }
      metadata.tables[table.name] = {
        name: table.name,
        columns: table.columns.map((c) => ({ name: c.name, type: c.type })),
        partitionedBy: [...table.partitionedBy],
        location: duckdbLocation(table.location),
        partitions: {},
      };
      return true;
    });
  }

  async addPartitions(table: string, partitions: PartitionSpec[]): Promise<void> {
    if (partitions.length === 0) return;
    for (const partition of partitions) this.assertReadableLocation(partition.location);
    await this.change((metadata) => {
      const stored = this.tableOf(metadata, table);
      for (const partition of partitions) {
        const name = partitionName(stored.partitionedBy, partition.values);
        const existing = stored.partitions[name];
        // IF NOT EXISTS keeps the old location; the touch still tells readers
        // in other processes to relist it (late data adds files to it).
        stored.partitions[name] = {
          values: spec(stored, partition.values),
          location: existing?.location ?? duckdbLocation(partition.location),
          revision: metadata.revision + 1,
        };
      }
      return true;
    });
  }

  async setPartitionLocation(table: string, partition: PartitionSpec): Promise<void> {
    this.assertReadableLocation(partition.location);
    await this.change((metadata) => {
      const stored = this.tableOf(metadata, table);
      stored.partitions[partitionName(stored.partitionedBy, partition.values)] = {
        values: spec(stored, partition.values),
        location: duckdbLocation(partition.location),
        revision: metadata.revision + 1,
      };
      return true;
    });
  }

  async listPartitions(table: string): Promise<PartitionSpec['values'][]> {
    await this.refreshIfStale();
    const stored = this.tableOf(this.metadata, table);
    return Object.keys(stored.partitions)
      .sort()
      .map((name) => ({ ...stored.partitions[name]!.values }));
  }

  async query(sql: string, params: SqlValue[] = [], options: QueryOptions = {}): Promise<Row[]> {
    if (this.closed) throw new CatalogError('The DuckDB catalog is closed', { code: 'closed' });
    await this.refreshIfStale();
    const timeout = AbortSignal.timeout(this.queryTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const run = () => this.pool.use((connection) => runSelect(connection, sql, params, { signal, timeout }));
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof CatalogError && error.retriable) || signal.aborted) throw error;
      // An IO error is most often a file the view names that went away since
      // the last listing (Hive lists at query time and never sees this):
      // relist every partition once and try again.
      this.logger?.warn({ err: error }, 'duckdb query hit an IO error; relisting partitions and retrying');
      await this.serial(async () => {
        this.partitionFiles.clear();
        await this.apply(this.metadata, this.metadataText ?? '');
      });
      return run();
    }
  }

  /** Forgets the table (not part of the port: tests and operators). The files stay, as with a Hive external table. */
  async dropTable(table: string): Promise<void> {
    await this.change((metadata) => {
      if (!metadata.tables[table]) return false;
      delete metadata.tables[table];
      return true;
    });
  }

  /** Re-reads the metadata now (another process changed it and the caller cannot wait for the interval). */
  async refresh(): Promise<void> {
    await this.serial(() => this.reload());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serialTail.catch(() => undefined);
    await this.pool.close();
    await this.engine.close();
  }

  private tableOf(metadata: CatalogMetadata, table: string): StoredTable {
    const stored = metadata.tables[table];
    if (!stored) {
      throw new CatalogError(`Table ${table} does not exist; ensureTable first`, {
        code: 'no_such_table',
        status: 404,
      });
    }
    return stored;
  }

  private assertReadableLocation(location: StoreLocation): void {
    assertLocation(location);
    if (location.kind === 's3') return; // mirrored into the farm through the store
    const path = resolve(location.path);
    if (!this.dataDirectories.some((dir) => path === dir || path.startsWith(`${dir}${sep}`))) {
      throw new CatalogError(
        `DuckDB may not read ${location.path}: outside its data directories ${this.dataDirectories.join(', ')}`,
        {
          code: 'unsupported_location',
          status: 400,
        },
      );
    }
  }

  /** Applies `mutate` to the freshest metadata and stores it, unless `mutate` says nothing changed. */
  private async change(mutate: (metadata: CatalogMetadata) => boolean): Promise<void> {
    if (this.closed) throw new CatalogError('The DuckDB catalog is closed', { code: 'closed' });
    await this.serial(async () => {
      const { text, metadata } = await this.metadataFile.read();
      if (!mutate(metadata)) {
        if (text !== this.metadataText) await this.apply(metadata, text);
        return;
      }
      metadata.revision += 1;
      const written = await this.metadataFile.write(metadata);
      await this.apply(metadata, written);
    });
  }

  private async refreshIfStale(): Promise<void> {
    if (this.metadataText !== null && Date.now() - this.lastCheck < this.refreshIntervalMs) return;
    await this.serial(async () => {
      // Another caller may have refreshed while this one waited.
      if (this.metadataText !== null && Date.now() - this.lastCheck < this.refreshIntervalMs) return;
      await this.reload();
    });
  }

  private async reload(): Promise<void> {
    const { text, metadata } = await this.metadataFile.read();
    if (text !== this.metadataText) await this.apply(metadata, text);
    this.lastCheck = Date.now();
  }

  /** Rebuilds the views of tables whose partitions changed, then drops views of tables that went away. */
  private async apply(metadata: CatalogMetadata, text: string): Promise<void> {
    for (const table of Object.values(metadata.tables)) {
      const cached = this.partitionFiles.get(table.name) ?? new Map<string, PartitionFiles>();
      const names = Object.keys(table.partitions).sort();
      const stale = names.filter((name) => {
        const partition = table.partitions[name]!;
        const known = cached.get(name);
        return !known || known.revision !== partition.revision || known.location !== partition.location;
      });
      const removed = [...cached.keys()].filter((name) => !table.partitions[name]);
      const columns = JSON.stringify(table.columns);
      if (
        stale.length === 0 &&
        removed.length === 0 &&
        this.viewGenerations.has(table.name) &&
        this.viewColumns.get(table.name) === columns
      )
        continue;
      await pMap(
        stale,
        async (name) => {
          const partition = table.partitions[name]!;
          const files = await this.farm.partitionFiles(table.name, name, readLocation(partition.location));
          cached.set(name, { revision: partition.revision, location: partition.location, files });
        },
        { concurrency: LISTING_CONCURRENCY },
      );
      for (const name of removed) cached.delete(name);
      this.partitionFiles.set(table.name, cached);
      await this.rebuildView(
        table,
        names.flatMap((name) => cached.get(name)?.files ?? []),
      );
      this.viewColumns.set(table.name, columns);
    }
    for (const name of [...this.viewGenerations.keys()]) {
      if (!metadata.tables[name]) {
        const kind = this.materializedTables.has(name) ? 'TABLE' : 'VIEW';
        await this.admin.run(`DROP ${kind} IF EXISTS ${duckdbIdentifier(name)}`);
        this.viewGenerations.delete(name);
        this.viewColumns.delete(name);
        this.partitionFiles.delete(name);
      }
    }
    this.metadata = metadata;
    this.metadataText = text;
    this.lastCheck = Date.now();
  }

  private async rebuildView(table: StoredTable, files: string[]): Promise<void> {
    const groups = await this.schemaGroups(files);
    const materialized = this.materializedTables.has(table.name);
    const started = Date.now();
    // A name is always the same kind within a process: the set is fixed at creation.
    await this.admin.run(materialized ? materializedTableSql(table, groups) : viewSql(table, groups));
    const generations = this.viewGenerations.get(table.name);
    const current = new Set(files);
    if (generations) {
      // Files two views old are read by no query any more.
      const retired = [...generations.previous].filter((f) => !current.has(f) && !generations.current.has(f));
      await Promise.all(retired.map((f) => rm(f, { force: true })));
    }
    this.viewGenerations.set(table.name, { current, previous: generations?.current ?? new Set() });
    this.logger?.debug(
      { table: table.name, files: files.length, materialized, ms: Date.now() - started },
      materialized ? 'duckdb table rebuilt' : 'duckdb view rebuilt',
    );
  }

  /** The files grouped by their Parquet schema (one group unless a column was added since some were written). */
  private async schemaGroups(files: string[]): Promise<SchemaGroup[]> {
    if (files.length === 0) return [];
    const list = `[${files.map(duckdbString).join(', ')}]`;
    const described = await this.admin.runAndReadAll(
      `SELECT file_name, string_agg(name || ' ' || duckdb_type, ', ' ORDER BY column_id) AS signature
       FROM parquet_schema(${list}) WHERE num_children IS NULL GROUP BY file_name`,
    );
    const bySignature = new Map<string, string[]>();
    for (const row of described.getRowObjectsJS()) {
      const signature = String(row.signature);
      const group = bySignature.get(signature) ?? [];
      group.push(String(row.file_name));
      bySignature.set(signature, group);
    }
    const order = new Map(files.map((f, i) => [f, i]));
    return [...bySignature.entries()].map(([signature, group]) => ({
      files: group.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
      available: new Map(
        signature.split(', ').map((column) => {
          const space = column.indexOf(' ');
          return [column.slice(0, space), column.slice(space + 1)] as [string, string];
        }),
      ),
    }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serialTail.then(fn, fn);
    this.serialTail = run.catch(() => undefined);
    return run;
  }
}

function spec(table: StoredTable, values: PartitionSpec['values']): Record<string, string> {
  const ordered = partitionValues(table.partitionedBy, values);
  return Object.fromEntries(table.partitionedBy.map((key, i) => [key, ordered[i]!]));
}

/** The location a partition's stored name stands for; a name this adapter never writes is corrupt metadata. */
function readLocation(name: string): StoreLocation {
  const location = storedLocation(name);
  if (location === null) {
    throw new CatalogError(`The DuckDB catalog metadata names an unreadable location ${name}`, {
      code: 'corrupt_metadata',
    });
  }
  return location;
}
