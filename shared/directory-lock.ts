/**
 * @module Single-process ownership of a local log directory. Two processes
 * appending to the same segment files would interleave frames and corrupt
 * them, so `open` takes a lock file (created exclusively) naming the owner;
 * a lock left by a process that no longer runs (kill -9, power loss) is
 * taken over. Node has no flock(2), hence the pid check.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BusError } from './errors.ts';
import { isProcessAlive } from './runtime/process-alive.ts';

export const LOCK_FILE = 'LOCK';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export interface DirectoryLock {
  release(): Promise<void>;
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    // Missing, or half-written by an owner that died while writing it.
    return null;
  }
}

export async function acquireDirectoryLock(dir: string): Promise<DirectoryLock> {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const content = JSON.stringify(me);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, content, { flag: 'wx' });
      return {
        async release() {
          // Only remove our own lock, never one a successor took over.
          if ((await readFile(path, 'utf8').catch(() => '')) === content) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BusError(`cannot create the lock file ${path}: ${(error as Error).message}`, {
          cause: error,
          code: 'log_unwritable',
        });
      }
    }
    const owner = await readOwner(path);
    if (owner !== null && owner.host === me.host && (owner.pid === me.pid || isProcessAlive(owner.pid))) {
      const who = owner.pid === me.pid ? 'this process' : `process ${owner.pid}`;
      throw new BusError(
        `the local log in ${dir} is already open by ${who} (since ${owner.since}); ` +
          `one process owns a log directory. If no such process runs, delete ${path}.`,
        { code: 'log_locked' },
      );
    }
    // Stale: its owner is gone (or on another host, which cannot share a local log safely anyway).
    await rm(path, { force: true });
  }
  throw new BusError(`cannot take the lock ${path}: another process keeps taking it`, { code: 'log_locked' });
}
