/**
 * @module The embedded DuckDB engine as the catalog runs it: an in-memory
 * instance in UTC, with a private scratch directory per process (read farm,
 * spill files), sandboxed to that directory and the local data directories,
 * with extension installs off and the configuration locked, so a query built
 * badly upstream still cannot read /etc/passwd or write files. Scratch
 * directories of processes that died without closing are removed at start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CatalogError } from '../../errors.ts';
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
}

export interface DuckDbEngine {
  instance: DuckDBInstance;
  /** For DDL (views) and DESCRIBE; queries take connections of their own. */
  admin: DuckDBConnection;
  /** `<workDir>/duckdb-<pid>-<random>`, with `farm/` and `tmp/` inside. */
  scratchDir: string;
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
    for (const statement of settings) await admin.run(statement);
  } catch (error) {
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
    async close() {
      admin.closeSync();
      instance.closeSync();
      await rm(scratchDir, { recursive: true, force: true });
    },
  };
}

async function removeDeadScratchDirs(workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  for (const name of await readdir(workDir)) {
    const pid = Number(/^duckdb-(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isProcessAlive(pid)) continue;
    await rm(join(workDir, name), { recursive: true, force: true });
  }
}
