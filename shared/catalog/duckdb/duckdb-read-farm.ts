/**
 * @module Where the embedded DuckDB engine reads partition files from: a
 * private directory of this process laid out as `<table>/dt=…/hour=…/<id>.parquet`.
 *
 * Why a farm: DuckDB prunes files by `key=value` path segments before opening
 * them (hive_partitioning), which was 5× faster than one UNION ALL branch per
 * partition at 720 partitions, but a partition's real location need not spell
 * its values (a replay writes to a new location). So each partition's files
 * are linked into a path that does: a symlink for a local file (directory
 * store), a downloaded copy for a remote one (S3), because DuckDB's httpfs
 * extension cannot be installed offline (extensions download at run time).
 *
 * Files are read as Hive reads a partition: the location's direct children,
 * skipping hidden names (starting with '.' or '_', like in-flight temp files).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CatalogError } from '../../errors.ts';
import type { ObjectStore, StoreLocation } from '../../object-store/object-store.ts';
import { duckdbLocation } from './duckdb-location.ts';

export interface ReadFarmOptions {
  /** This process's farm directory (the engine's scratch directory removes it at close). */
  root: string;
  /** The store remote locations live in: they lie under its `location('')`. */
  store?: ObjectStore;
}

export class ReadFarm {
  readonly root: string;
  private readonly store: ObjectStore | undefined;

  constructor(options: ReadFarmOptions) {
    this.root = options.root;
    this.store = options.store;
  }

  /** The farm paths of the partition's files, linked or downloaded as needed. */
  async partitionFiles(table: string, partitionName: string, location: StoreLocation): Promise<string[]> {
    const dir = join(this.root, table, partitionName);
    if (location.kind === 'dir') return this.linkLocal(dir, location.path);
    return this.mirrorRemote(dir, location);
  }

  private async linkLocal(dir: string, source: string): Promise<string[]> {
    const names = await visibleFiles(source);
    if (names.length > 0) await mkdir(dir, { recursive: true });
    const out: string[] = [];
    for (const name of names) {
      const target = join(source, name);
      // Named by the target's path: a new location gives new names, so a
      // reader of the previous view keeps its own links.
      const link = join(dir, `${digest(target)}.parquet`);
      if (!(await exists(link))) {
        try {
          await symlink(target, link);
        } catch (error) {
          if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
        }
      }
      out.push(link);
    }
    return out;
  }

  private async mirrorRemote(dir: string, location: StoreLocation & { kind: 's3' }): Promise<string[]> {
    const store = this.store;
    const root = store?.location('');
    if (
      !store ||
      root?.kind !== 's3' ||
      root.bucket !== location.bucket ||
      !asPrefix(location.key).startsWith(asPrefix(root.key))
    ) {
      throw new CatalogError(
        `DuckDB cannot read ${duckdbLocation(location)}: not inside the object store ${root ? duckdbLocation(root) : '(none given)'}`,
        { code: 'unsupported_location', status: 400 },
      );
    }
    const prefix = asPrefix(location.key).slice(asPrefix(root.key).length);
    const out: string[] = [];
    for await (const object of store.list(prefix)) {
      const name = object.key.slice(prefix.length);
      if (name.includes('/') || name.startsWith('.') || name.startsWith('_')) continue;
      // Size and time in the name: an object rewritten in place is fetched again.
      const copy = join(
        dir,
        `${digest(`${object.key}|${object.size}|${object.lastModified.getTime()}`)}.parquet`,
      );
      if (!(await exists(copy))) {
        const body = await store.getStream(object.key);
        if (body === null) continue; // deleted since the listing
        await mkdir(dir, { recursive: true });
        const temp = join(dirname(copy), `.${randomBytes(6).toString('hex')}.tmp`);
        // Streamed: a partition's files can be far bigger than the memory a query should take.
        await pipeline(body, createWriteStream(temp)).catch(async (error: unknown) => {
          await rm(temp, { force: true });
          throw error;
        });
        await rename(temp, copy);
      }
      out.push(copy);
    }
    return out;
  }
}

/** The key as a prefix of the keys below it: '' (the bucket's root) or ending in '/'. */
function asPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

async function visibleFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR'))
      return [];
    throw error;
  }
  const out: string[] = [];
  for (const name of entries.sort()) {
    if (name.startsWith('.') || name.startsWith('_')) continue;
    const info = await stat(join(dir, name)).catch(() => null);
    if (info?.isFile()) out.push(name);
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
