/**
 * @module Where the test servers keep what outlives a run: Maven's local repository, the
 * fetched jars and the shared stack's state. Outside the repository, so a fresh clone and
 * `git clean` keep the downloads.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BEACON_CACHE || join(homedir(), '.cache', 'beacon-to-hive');
}
