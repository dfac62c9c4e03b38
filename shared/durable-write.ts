/**
 * @module Making file-system changes survive a crash: fsync of a directory
 * (so a created or renamed entry is on disk), and replacing a small file
 * atomically (write a temp file, fsync it, rename it over the old one, fsync
 * the directory), so a reader sees the old content or the new, never a mix.
 * Written once for every file the project keeps durable: the local log, the
 * directory object store and the edge's disk spool.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

let tempCounter = 0;

export async function replaceFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirectory(dir);
}
