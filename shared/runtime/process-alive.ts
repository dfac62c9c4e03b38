/**
 * @module Whether a pid read from a lock or pid file still runs: the one
 * check behind the local log's directory lock, the loader's object-store
 * lock, run.json and the test servers' pid files.
 */
import { readFileSync } from 'node:fs';

/**
 * Whether `pid` runs: signal 0 checks without sending anything (EPERM: it
 * runs, as another user). A zombie (killed, not yet reaped by its parent)
 * counts as gone where /proc tells; elsewhere the signal's answer stands.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // The state is the field after the command name, which is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
