/**
 * @module The tail of a log file, for error messages about servers that failed to start and
 * for integration tests that failed (the cause is usually in the server's own log).
 */
import { open, stat } from 'node:fs/promises';

/** The last `lines` lines of a text file ('' when it does not exist). Reads at most 256 KB. */
async function tailFile(path: string, lines = 60): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return '';
  }
  const length = Math.min(size, 256 * 1024);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

/** Tails of several log files, each under a header naming it. */
export async function formatLogTails(files: readonly string[], lines = 60): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const tail = await tailFile(file, lines);
    parts.push(`----- last ${lines} lines of ${file} -----\n${tail || '(empty or missing)'}`);
  }
  return parts.join('\n');
}
