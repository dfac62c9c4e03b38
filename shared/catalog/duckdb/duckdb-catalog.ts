/**
 * @module The metastore and query-engine ports on embedded DuckDB (`@duckdb/node-api`, in
 * process): one-machine mode, and a second engine for insights. It keeps its
 * own metastore (duckdb-metadata.ts) in the object store and answers each
 * table with a view over the partitions' Parquet files (duckdb-views.ts) read
 * through a per-process farm (duckdb-read-farm.ts), or, for the
 * `materializedTables` (the rollups), with a DuckDB table in a database file
 * refreshed one changed partition at a time (duckdb-materialized.ts).
 * Replacing a view, like a refresh, is one transaction in DuckDB, so a
 * partition's location swaps atomically for readers. Rows come back in the
 * format of row-format.ts, as from Hive.
 *
 * Another process's changes (the loader's) are picked up by re-reading the
 * metadata at most every `refreshIntervalMs` before a query.
 *
 * The engine is sandboxed (duckdb-engine.ts) and `query` runs only SELECT
 * statements (duckdb-query.ts).
 *
 * Over 300 lines: the metadata cache, refresh, view replacement and the
 * materialized tables' bookkeeping are one state machine that both ports
 * read; the pieces without that state already live in the duckdb-*.ts files
 * beside it.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Semaphore } from 'async-mutex';
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
import { MaterializedTables } from './duckdb-materialized.ts';
import { type CatalogMetadata, MetadataFile, type StoredTable } from './duckdb-metadata.ts';
import { runSelect } from './duckdb-query.ts';
import { ReadFarm } from './duckdb-read-farm.ts';
import { duckdbString, type SchemaGroup, viewSql } from './duckdb-views.ts';

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
   * Tables (catalog names) kept as DuckDB tables instead of views over their
   * files: small, hot tables such as the rollups. A change copies only the
   * partitions it touched, in one transaction (duckdb-materialized.ts).
   */
  materializedTables?: readonly string[];
  /**
   * The DuckDB database file that holds the materialized tables, kept across
   * restarts: a start refreshes only the partitions that changed since. One
   * process at a time (another, or a second catalog of this process, gets a
   * scratch copy). Default: a file in the scratch directory, gone at close.
   */
  databaseFile?: string;
  logger?: Logger;
}

interface PartitionFiles {
  revision: number;
  location: string;
  files: string[];
}

const LISTING_CONCURRENCY = 8;

/** The parent of the scratch directories when the options name none. */
export function defaultWorkDir(): string {
  return join(tmpdir(), 'beacon-to-hive-duckdb');
}
/** More than queries can ever run at once (the pool's size): a commit waits for all, a query for none but a commit. */
const QUERY_SLOTS = 1 << 20;

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
  /** The materialized tables' database; null when there are none. */
  private readonly materialized: MaterializedTables | null;
  /** Matches SQL that names a materialized table (a word of it, quoted or not); null when there are none. */
  private readonly materializedNames: RegExp | null;
  /** Where the metadata lives, part of the identity the materialized file is kept for. */
  private readonly metadataLocation: string;

  private metadata: CatalogMetadata = { format: 1, revision: 0, tables: {} };
  private metadataText: string | null = null;
  private lastCheck = 0;
  private readonly partitionFiles = new Map<string, Map<string, PartitionFiles>>();
  /** Per table, the column list its view was built with: a table that gained columns needs a new view. */
  private readonly viewColumns = new Map<string, string>();
  /** Per table, the farm files of the current view and of the one before (still readable by queries in flight). */
  private readonly viewGenerations = new Map<string, { current: Set<string>; previous: Set<string> }>();
  private serialTail: Promise<unknown> = Promise.resolve();
  /** Queries that read materialized tables take one slot each, their commits all of them (duckdb-materialized.ts says why). */
  private readonly commitGate = new Semaphore(QUERY_SLOTS);
  private closed = false;

  private constructor(parts: {
    options: DuckDbCatalogOptions;
    engine: DuckDbEngine;
    dataDirectories: string[];
  }) {
    const { options } = parts;
    const metadataKey = options.metadataKey ?? '_catalog/duckdb-catalog.json';
    this.metadataFile = new MetadataFile(options.store, metadataKey);
    this.metadataLocation = duckdbLocation(options.store.location(metadataKey));
    this.engine = parts.engine;
    this.admin = parts.engine.admin;
    this.farm = new ReadFarm({ root: join(parts.engine.scratchDir, 'farm'), store: options.store });
    this.dataDirectories = parts.dataDirectories;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 60_000;
    this.logger = options.logger;
    this.materializedTables = new Set(options.materializedTables ?? []);
    const names = [...this.materializedTables].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.materializedNames =
      parts.engine.materialized && names.length > 0 ? new RegExp(`\\b(${names.join('|')})\\b`, 'i') : null;
    this.materialized = parts.engine.materialized
      ? new MaterializedTables(parts.engine.admin, (commit) =>
          this.commitGate.runExclusive(commit, QUERY_SLOTS),
        )
      : null;
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
      workDir: options.workDir ?? defaultWorkDir(),
      dataDirectories,
      threads: options.threads,
      memoryLimit: options.memoryLimit,
      ...((options.materializedTables?.length ?? 0) > 0
        ? { materializedFile: options.databaseFile ?? 'scratch' }
        : {}),
      ...(options.logger ? { logger: options.logger } : {}),
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
    const select = () =>
      this.pool.use((connection) => runSelect(connection, sql, params, { signal, timeout }));
    // Only a query that names a materialized table waits for (and holds back) a commit: a long
    // scan of raw events must not stall every refresh, and the queries queued behind it.
    const run = () =>
      this.materializedNames?.test(sql) ? this.commitGate.runExclusive(select, 1) : select();
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof CatalogError && error.retriable) || signal.aborted) throw error;
      // An IO error is most often a file the view names that went away since
      // the last listing (Hive lists at query time and never sees this):
      // relist every partition once and try again.
      this.logger?.warn({ err: error }, 'duckdb query hit an IO error; relisting partitions and retrying');
      await this.serial(async () => {
        // Materialized tables read no files at query time: only views are relisted.
        for (const name of [...this.partitionFiles.keys()])
          if (!this.isMaterialized(name)) this.partitionFiles.delete(name);
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

  /**
   * Brings every table up to `metadata`: a view over files is rebuilt when
   * its partitions changed, a materialized table refreshes just the changed
   * partitions (duckdb-materialized.ts); tables gone are dropped.
   */
  private async apply(metadata: CatalogMetadata, text: string): Promise<void> {
    await this.reconcileMaterialized(metadata);
    for (const table of Object.values(metadata.tables)) {
      const materialized = this.isMaterialized(table.name);
      const columns = JSON.stringify(table.columns);
      // A materialized table whose columns changed is copied afresh: its older
      // rows need the new column (NULL, or the value of files that have it).
      // Schema changes come with deployments, not with loads.
      const rebuild = materialized && this.viewColumns.get(table.name) !== columns;
      // A copy: it becomes the table's record only once the view or the refresh succeeded.
      const cached = new Map<string, PartitionFiles>(rebuild ? [] : this.partitionFiles.get(table.name));
      const names = Object.keys(table.partitions).sort();
      const stale = names.filter((name) => {
        const partition = table.partitions[name]!;
        const known = cached.get(name);
        return !known || known.revision !== partition.revision || known.location !== partition.location;
      });
      const removed = [...cached.keys()].filter((name) => !table.partitions[name]);
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
      const started = Date.now();
      if (materialized) {
        const files = stale.flatMap((name) => cached.get(name)?.files ?? []);
        try {
          await this.materialized!.refresh(table, {
            rebuild,
            changed: stale.map((name) => ({
              name,
              revision: table.partitions[name]!.revision,
              location: table.partitions[name]!.location,
            })),
            removed,
            groups: await this.schemaGroups(files),
          });
        } catch (error) {
          // The transaction rolled back: the table answers as before. Its partitions stay
          // unrecorded, so the next change (or restart) tries them again; queries keep working.
          this.logger?.error(
            { err: error, table: table.name, partitions: stale.length },
            'duckdb materialized table could not be refreshed; it answers as before',
          );
          continue;
        }
      } else {
        const files = names.flatMap((name) => cached.get(name)?.files ?? []);
        await this.admin.run(viewSql(table, await this.schemaGroups(files)));
      }
      this.partitionFiles.set(table.name, cached);
      this.viewColumns.set(table.name, columns);
      await this.retireFiles(
        table.name,
        [...cached.values()].flatMap((p) => p.files),
      );
      this.logger?.debug(
        {
          table: table.name,
          partitions: stale.length,
          removed: removed.length,
          rebuild,
          ms: Date.now() - started,
        },
        materialized ? 'duckdb table refreshed' : 'duckdb view rebuilt',
      );
    }
    for (const name of [...this.viewGenerations.keys()]) {
      if (!metadata.tables[name]) {
        if (this.isMaterialized(name)) await this.materialized!.drop(name);
        else await this.admin.run(`DROP VIEW IF EXISTS ${duckdbIdentifier(name)}`);
        this.viewGenerations.delete(name);
        this.viewColumns.delete(name);
        this.partitionFiles.delete(name);
      }
    }
    this.metadata = metadata;
    this.metadataText = text;
    this.lastCheck = Date.now();
  }

  private isMaterialized(table: string): boolean {
    return this.materialized !== null && this.materializedTables.has(table);
  }

  /**
   * Takes what the materialized file already holds of this catalog as copied
   * (a restart refreshes only the partitions that changed since), once per
   * catalog identity; tables the catalog no longer has leave the file.
   */
  private async reconcileMaterialized(metadata: CatalogMetadata): Promise<void> {
    if (this.materialized === null) return;
    const held = await this.materialized.reconcile(`${this.metadataLocation}#${metadata.id ?? ''}`);
    if (held === null) return;
    for (const name of this.materializedTables) {
      this.partitionFiles.delete(name);
      this.viewColumns.delete(name);
    }
    for (const [name, table] of held) {
      if (!this.materializedTables.has(name) || !metadata.tables[name]) {
        await this.materialized.drop(name);
        continue;
      }
      this.viewColumns.set(name, table.columns);
      this.partitionFiles.set(
        name,
        new Map([...table.partitions].map(([partition, at]) => [partition, { ...at, files: [] }])),
      );
    }
  }

  /**
   * Deletes the farm files of `table` that neither its current files nor the
   * generation before name: a query in flight may still read the one before
   * (a view's files; a materialized table's are read only by its refresh).
   */
  private async retireFiles(table: string, files: string[]): Promise<void> {
    const generations = this.viewGenerations.get(table);
    const current = new Set(files);
    if (generations) {
      const retired = [...generations.previous].filter((f) => !current.has(f) && !generations.current.has(f));
      await Promise.all(retired.map((f) => rm(f, { force: true })));
    }
    this.viewGenerations.set(table, { current, previous: generations?.current ?? new Set() });
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
