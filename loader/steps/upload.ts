/**
 * @module Step "upload": each local Parquet file goes to its hour's current
 * location under its first-offset name (a stream, so large files go up in
 * parts), followed by its dedup index. Before the first byte goes up, the
 * pending manifest lists every key this run will write, so a crash anywhere
 * after this point is cleaned up by the next run.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { encodeDedupIndex } from '../dedup/dedup-index-file.ts';
import type { Hour } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import type { WrittenFile } from './write.ts';

export interface UploadedFile {
  hour: Hour;
  key: string;
  indexKey: string;
  rows: number;
  bytes: number;
}

/** Runs `work` over `items` with at most `limit` at once; the first failure rejects. */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}

/** The keys a set of written files will get, without uploading anything. */
export async function plannedKeys(
  deps: LoaderDeps,
  files: readonly WrittenFile[],
  locate: (hour: Hour) => Promise<string>,
  /** A file's name: the topic's by default, an import's own (import/import-source.ts). */
  fileName: (partition: number, firstOffset: number) => string = (p, o) =>
    layoutOf(deps).dataFileName(deps.settings.topic, p, o),
): Promise<UploadedFile[]> {
  const layout = layoutOf(deps);
  const out: UploadedFile[] = [];
  for (const f of files) {
    const key = `${await locate(f.hour)}${fileName(f.partition, f.firstOffset)}`;
    out.push({ hour: f.hour, key, indexKey: layout.indexKeyOf(key), rows: f.rows, bytes: f.bytes });
  }
  return out;
}

export async function uploadFiles(
  deps: LoaderDeps,
  files: readonly WrittenFile[],
  targets: readonly UploadedFile[],
): Promise<void> {
  const pairs = files.map((file, i) => ({ file, target: targets[i] as UploadedFile }));
  await inPool(pairs, deps.settings.uploadConcurrency, async ({ file, target }) => {
    await deps.store.put(target.key, createReadStream(file.localPath), {
      contentType: 'application/vnd.apache.parquet',
    });
    await deps.store.put(target.indexKey, encodeDedupIndex(file.hashes), {
      contentType: 'application/octet-stream',
    });
    await rm(file.localPath, { force: true });
  });
}
