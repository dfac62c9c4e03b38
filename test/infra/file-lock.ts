/**
 * @module A lock file for work that two processes must not do at once (fetching the same
 * jars, starting or stopping the shared stack). Several helpers and test runs share one
 * machine, so `npm test` in two shells must not start two stacks on the same ports.
 * The file holds the owner's pid: a lock left by a dead process is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from './java-process.ts';

export interface FileLockOptions {
  /** Give up after waiting this long for another process to finish. */
  timeoutMs: number;
  /** Called once when the lock is busy, to say who we wait for. */
  onWait?: (holderPid: number) => void;
}

export async function withFileLock<T>(
  path: string,
  options: FileLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  // The lock sits beside what it guards, whose folder a fresh cache does not have yet.
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (!Number.isFinite(holder) || !isProcessAlive(holder)) {
      // Dead holder (or a file caught half-written: re-read once before removing it).
      await sleep(100);
      const again = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (again === holder || Number.isNaN(again)) await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for the lock ${path}, held by pid ${holder}`);
    }
    if (!told) options.onWait?.(holder);
    told = true;
    await sleep(250);
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
