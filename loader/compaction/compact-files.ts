/**
 * @module Rewrites an hour's Parquet files (local copies) into as few files as
 * the limits allow, sorted by (project_id, event_time), in DuckDB under its
 * memory limit (it spills to `tempDir`). The number of parts is decided up
 * front from the rows and bytes of the input, so the cuts are exact: each
 * part holds a contiguous slice of the sorted hour, and the parts together
 * hold exactly the input rows (checked).
 *
 * Written at the hot files' zstd level (ZSTD_LEVEL): at zstd's default (3) a
 * compacted hour came out 26 % larger than the files it replaced; level 19
 * saves a little more at many times the CPU, while the pass holds the
 * topic's lock (loader/README.md, "Bytes").
 *
 * One part (the usual case): one sorted COPY. More: the hour is sorted once
 * into a temporary table numbered by row, then each slice is copied out.
 * (DuckDB's own FILE_SIZE_BYTES / ROW_GROUPS_PER_FILE rotation was tried:
 * it overshoots the row limit and does not keep the order across files.)
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString, ZSTD_LEVEL } from '../parquet/loader-duckdb.ts';

export interface CompactFilesOptions {
  inputs: string[];
  /** Where the parts go, named by `nameOf(n)`. */
  outDir: string;
  nameOf(n: number): string;
  maxRowsPerFile: number;
  maxFileBytes: number;
  rowGroupSize: number;
  memoryLimit: string;
  threads: number;
  tempDir: string;
}

export interface CompactedPart {
  name: string;
  path: string;
  rows: number;
  bytes: number;
}

const ORDER = 'project_id, event_time, message_id';

export async function compactFiles(options: CompactFilesOptions): Promise<CompactedPart[]> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit,
    threads: String(options.threads),
    temp_directory: options.tempDir,
  });
  const conn = await instance.connect();
  try {
    // union_by_name: a file written before a column was added reads it as NULL.
    const source = `read_parquet([${options.inputs.map(sqlString).join(', ')}], union_by_name = true, hive_partitioning = false)`;
    const [[countValue]] = (await conn.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows() as [
      [bigint],
    ];
    const rows = Number(countValue);
    let inputBytes = 0;
    for (const path of options.inputs) inputBytes += (await stat(path)).size;
    const parts = Math.max(
      1,
      Math.ceil(rows / options.maxRowsPerFile),
      Math.ceil(inputBytes / options.maxFileBytes),
    );
    const copyOptions = `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${Math.floor(options.rowGroupSize)})`;
    const out: CompactedPart[] = [];
    if (parts === 1) {
      const path = join(options.outDir, options.nameOf(0));
      const reader = await conn.runAndReadAll(
        `COPY (SELECT * FROM ${source} ORDER BY ${ORDER}) TO ${sqlString(path)} ${copyOptions}`,
      );
      const written = Number(reader.getRows()[0]?.[0] ?? 0);
      out.push({ name: options.nameOf(0), path, rows: written, bytes: (await stat(path)).size });
    } else {
      await conn.run(
        `CREATE TEMP TABLE sorted_hour AS SELECT *, row_number() OVER (ORDER BY ${ORDER}) AS compact_row FROM ${source}`,
      );
      const perPart = Math.ceil(rows / parts);
      for (let n = 0; n * perPart < rows; n++) {
        const path = join(options.outDir, options.nameOf(n));
        const reader = await conn.runAndReadAll(
          `COPY (SELECT * EXCLUDE (compact_row) FROM sorted_hour
                 WHERE compact_row > ${n * perPart} AND compact_row <= ${(n + 1) * perPart}
                 ORDER BY compact_row)
           TO ${sqlString(path)} ${copyOptions}`,
        );
        const written = Number(reader.getRows()[0]?.[0] ?? 0);
        out.push({ name: options.nameOf(n), path, rows: written, bytes: (await stat(path)).size });
      }
    }
    const total = out.reduce((n, p) => n + p.rows, 0);
    if (total !== rows) throw new Error(`compaction wrote ${total} rows of ${rows}; nothing was swapped`);
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
