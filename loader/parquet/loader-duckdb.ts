/**
 * @module The loader's own embedded DuckDB: it turns a spilled NDJSON bucket
 * into a Parquet file, and an hour's Parquet files into its rollups. Chosen
 * by measurement over four JavaScript writers (loader/README.md): about twice
 * the rows/s of the next one, zstd, and exactly the types Hive and DuckDB
 * read back. Its memory is capped (`memory_limit`, spilling to
 * `temp_directory`), so an hour of any size converts in bounded memory.
 *
 * Timestamps: the `events` columns are DuckDB TIMESTAMP, which Parquet stores
 * as INT64 micros with isAdjustedToUTC=false, holding the UTC wall clock.
 * Hive (JVM in UTC) and DuckDB both read that back as the same instant;
 * see loader/README.md, "Timestamps".
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { EVENTS_COLUMNS, ROLLUP_TABLES, type RollupTable } from '../../shared/warehouse.ts';
import { rollupSelect } from '../steps/rollup-sql.ts';

export interface LoaderDuckDbOptions {
  /** e.g. '1GB': DuckDB spills beyond it. */
  memoryLimit: string;
  threads: number;
  /** Where DuckDB spills and where NDJSON buckets live. */
  tempDir: string;
  /** Rows per Parquet row group: large enough for scans, small enough to prune. */
  rowGroupSize: number;
  /**
   * Sort each events file by (project_id, event_time), so row-group statistics
   * let a query for one project skip the rest. Costs about 3x the conversion
   * time (loader/README.md); off, files keep bus order. A load asks for it only
   * when no compaction will sort the hour later (hotFilesSorted).
   */
  sortEvents: boolean;
}

export interface LoaderDuckDb {
  /** NDJSON of EventRow lines → one zstd Parquet file (sorted by project and time if asked); returns the row count. */
  eventsToParquet(ndjsonPath: string, parquetPath: string): Promise<number>;
  /**
   * The rollups of one hour from all of that hour's events files (local
   * paths): each rollup table (shared/warehouse.ts) one Parquet file at its
   * path in `out`; returns the rows of each.
   */
  rollups(eventFiles: string[], out: Record<RollupTable, string>): Promise<Record<RollupTable, number>>;
  close(): void;
}

/** DuckDB string literal: paths come from our own temp dir, but quote them properly all the same. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * zstd level 9: measured on the loader's rows (bench:loader), about 20 % fewer
 * bytes than the default level 3 for little more write time; 19 saves a few
 * % more at several times the CPU (loader/README.md, "Bytes"). Compaction
 * writes at the same level.
 */
export const ZSTD_LEVEL = 9;

/**
 * A hot file's row groups are also cut at this many bytes: DuckDB's Parquet
 * writer holds a row group in memory until it is written, per thread, and
 * 100,000 of these wide rows (≈1.5 KB each) overflowed a 256MB limit in one
 * NDJSON → Parquet conversion. Measured on a 150,000-row bucket, 2 threads,
 * unsorted: 16MB peaked at 292 MB RSS (323 MB at a 1GB limit), 32MB at
 * 372 MB, 20,000-row groups at 406 MB (loader/README.md, "Memory").
 */
const HOT_ROW_GROUP_BYTES = '16MB';

function copyOptions(rowGroupSize: number, rowGroupBytes?: string): string {
  return `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${Math.floor(rowGroupSize)}${rowGroupBytes ? `, ROW_GROUP_SIZE_BYTES '${rowGroupBytes}'` : ''})`;
}

export async function openLoaderDuckDb(options: LoaderDuckDbOptions): Promise<LoaderDuckDb> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit,
    threads: String(options.threads),
    temp_directory: options.tempDir,
    // ORDER BY is honoured regardless; without insertion order DuckDB streams and spills more freely.
    preserve_insertion_order: 'false',
  });
  const conn = await instance.connect();
  // Timestamps travel as µs since the epoch (exact), not as ISO text.
  const jsonColumns = EVENTS_COLUMNS.map(
    (c) => `${c.name}: '${c.type === 'TIMESTAMP' ? 'BIGINT' : c.type === 'STRING' ? 'VARCHAR' : c.type}'`,
  ).join(', ');
  const select = EVENTS_COLUMNS.map((c) =>
    c.type === 'TIMESTAMP' ? `make_timestamp(${c.name}) AS ${c.name}` : c.name,
  ).join(', ');

  return {
    async eventsToParquet(ndjsonPath, parquetPath) {
      const reader = await conn.runAndReadAll(
        `COPY (SELECT ${select}
               FROM read_json(${sqlString(ndjsonPath)}, format = 'newline_delimited', columns = {${jsonColumns}})
               ${options.sortEvents ? 'ORDER BY project_id, event_time' : ''})
         TO ${sqlString(parquetPath)} ${copyOptions(options.rowGroupSize, HOT_ROW_GROUP_BYTES)}`,
      );
      return Number(reader.getRows()[0]?.[0] ?? 0);
    },

    async rollups(eventFiles, out) {
      // By name: an hour may mix files written before a column existed with newer ones.
      const files = `read_parquet([${eventFiles.map(sqlString).join(', ')}], union_by_name = true)`;
      // The rollups count people: bots (is_bot true) are left out, as every dashboard leaves them out
      // by default; insights reads raw events when asked to include them. Files from before is_bot
      // have no such column, and their rows are not bots.
      const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${files}`);
      const hasBotColumn = described.getRowObjects().some((row) => row.column_name === 'is_bot');
      const source = hasBotColumn ? `(SELECT * FROM ${files} WHERE is_bot IS NOT TRUE) AS humans` : files;
      const counts = {} as Record<RollupTable, number>;
      for (const table of ROLLUP_TABLES) {
        const reader = await conn.runAndReadAll(
          `COPY (${rollupSelect(table, source)}) TO ${sqlString(out[table])} ${copyOptions(options.rowGroupSize)}`,
        );
        counts[table] = Number(reader.getRows()[0]?.[0] ?? 0);
      }
      return counts;
    },

    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * A LoaderDuckDb that starts DuckDB on first use: a run with nothing to load
 * (most scheduled runs of a quiet topic) never pays for its start-up.
 */
export function lazyLoaderDuckDb(options: LoaderDuckDbOptions): LoaderDuckDb {
  let opened: Promise<LoaderDuckDb> | undefined;
  const get = () => {
    opened ??= openLoaderDuckDb(options);
    return opened;
  };
  return {
    eventsToParquet: async (ndjsonPath, parquetPath) =>
      (await get()).eventsToParquet(ndjsonPath, parquetPath),
    rollups: async (eventFiles, out) => (await get()).rollups(eventFiles, out),
    async close() {
      (await opened)?.close();
    },
  };
}
