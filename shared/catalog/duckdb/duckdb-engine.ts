/**
 * @module The embedded DuckDB engine as the catalog runs it: an in-memory
 * instance in UTC, with a private scratch directory per process (read farm,
 * spill files) and, when the catalog materializes tables, their database
 * file attached as `materialized` (kept across restarts, or in the scratch
 * directory), sandboxed to that directory and the local data directories,
 * with extension installs off and the configuration locked, so a query built
 * badly upstream still cannot read /etc/passwd or write files. Scratch
 * directories of processes that died without closing are removed at start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CatalogError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { isProcessAlive } from '../../runtime/process-alive.ts';
import { duckdbString } from './duckdb-views.ts';

export interface DuckDbEngineOptions {
  /** Parent of this process's scratch directory. */
  workDir: string;
  /** Local directories queries may read (besides the scratch directory). */
  dataDirectories: string[];
  threads?: number;
  /** DuckDB's memory_limit, e.g. '2GB'. */
  memoryLimit?: string;
  /**
   * Attach a database file as `materialized` (the catalog's materialized tables):
   * this path, kept across restarts, or `'scratch'` for one in the scratch
   * directory that goes at close. Absent: none attached.
   */
  materializedFile?: string;
  logger?: Logger;
}

export interface DuckDbEngine {
  instance: DuckDBInstance;
  /** For DDL (views) and DESCRIBE; queries take connections of their own. */
  admin: DuckDBConnection;
  /** `<workDir>/duckdb-<pid>-<random>`, with `farm/` and `tmp/` inside. */
  scratchDir: string;
  /** The file attached as `materialized`, null when none; `kept` when it outlives the process. */
  materialized: { file: string; kept: boolean } | null;
  close(): Promise<void>;
}

export async function openDuckDbEngine(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
  const workDir = resolve(options.workDir);
  await removeDeadScratchDirs(workDir);
  const scratchDir = join(workDir, `duckdb-${process.pid}-${randomBytes(4).toString('hex')}`);
  // Partition values become path segments parsed as key=value: the prefix must have none.
  if (scratchDir.includes('=')) {
    throw new CatalogError(`DuckDB workDir ${workDir} must not contain '='`, { code: 'invalid_config' });
  }
  await mkdir(join(scratchDir, 'farm'), { recursive: true });
  await mkdir(join(scratchDir, 'tmp'), { recursive: true });
  const readable = [scratchDir, ...options.dataDirectories.map((d) => resolve(d))];

  const instance = await DuckDBInstance.create(':memory:');
  const admin = await instance.connect();
  let materialized: DuckDbEngine['materialized'] = null;
  const settings = [
    "SET TimeZone = 'UTC'",
    'SET parquet_metadata_cache = true',
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    `SET temp_directory = ${duckdbString(join(scratchDir, 'tmp'))}`,
    ...(options.threads ? [`SET threads = ${Math.floor(options.threads)}`] : []),
    ...(options.memoryLimit ? [`SET memory_limit = ${duckdbString(options.memoryLimit)}`] : []),
    // DuckDB resolves symlinks before this check: the farm's links must point into a data directory.
    `SET allowed_directories = [${readable.map((d) => duckdbString(`${d}${sep}`)).join(', ')}]`,
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ];
  try {
    // Attached before the sandbox closes: ATTACH is a file-system operation it forbids.
    if (options.materializedFile !== undefined)
      materialized = await attachMaterialized(admin, options.materializedFile, scratchDir, options.logger);
    for (const statement of settings) await admin.run(statement);
  } catch (error) {
    if (materialized?.kept) FILES_IN_USE.delete(materialized.file);
    admin.closeSync();
    instance.closeSync();
    await rm(scratchDir, { recursive: true, force: true });
    throw new CatalogError(
      `DuckDB could not be configured: ${error instanceof Error ? error.message : error}`,
      {
        code: 'invalid_config',
        cause: error,
      },
    );
  }
  return {
    instance,
    admin,
    scratchDir,
    materialized,
    async close() {
      admin.closeSync();
      instance.closeSync();
      if (materialized?.kept) FILES_IN_USE.delete(materialized.file);
      await rm(scratchDir, { recursive: true, force: true });
    },
  };
}

/**
 * Kept files attached by an engine of this process. DuckDB's lock on a
 * database file is a POSIX lock, which never conflicts within one process:
 * two catalogs of one process attaching the same file would both write it.
 */
const FILES_IN_USE = new Set<string>();

/**
 * Attaches the materialized tables' database. A kept file that another
 * process holds (DuckDB's lock) or this process already uses gives way to a
 * fresh file in the scratch directory, so the catalog still starts; one that
 * cannot be opened (damaged: it is only a copy of the warehouse's files) is
 * started afresh, or, where it cannot be written, also gives way.
 */
async function attachMaterialized(
  admin: DuckDBConnection,
  wanted: string,
  scratchDir: string,
  logger: Logger | undefined,
): Promise<{ file: string; kept: boolean }> {
  const attach = (file: string) => admin.run(`ATTACH ${duckdbString(file)} AS materialized`);
  if (wanted !== 'scratch') {
    const file = resolve(wanted);
    const kept = await attachKept(file, attach, logger);
    if (kept) return { file, kept: true };
  }
  const scratchFile = join(scratchDir, 'materialized.duckdb');
  await attach(scratchFile);
  return { file: scratchFile, kept: false };
}

async function attachKept(
  file: string,
  attach: (file: string) => Promise<unknown>,
  logger: Logger | undefined,
): Promise<boolean> {
  if (FILES_IN_USE.has(file)) {
    logger?.warn({ file }, 'duckdb materialized file already open in this process; using a scratch copy');
    return false;
  }
  try {
    await mkdir(dirname(file), { recursive: true });
    await attach(file);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      logger?.warn(
        { file, err: error },
        'duckdb materialized file held by another process; using a scratch copy',
      );
      return false;
    }
    try {
      // A damaged file is only a copy of the warehouse's files: start it afresh.
      await rm(file, { force: true });
      await rm(`${file}.wal`, { force: true });
      await attach(file);
      logger?.warn({ file, err: error }, 'duckdb materialized file unreadable; started afresh');
    } catch (again) {
      logger?.warn({ file, err: again }, 'duckdb materialized file cannot be written; using a scratch copy');
      return false;
    }
  }
  FILES_IN_USE.add(file);
  return true;
}

async function removeDeadScratchDirs(workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  for (const name of await readdir(workDir)) {
    const pid = Number(/^duckdb-(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isProcessAlive(pid)) continue;
    await rm(join(workDir, name), { recursive: true, force: true });
  }
}
