/**
 * @module What the soak watches of the one-machine process from outside, the
 * way an operator would on Linux: resident memory (VmRSS of
 * /proc/<pid>/status, the kernel's count, not the process's own view of its
 * heap) and open file descriptors (entries of /proc/<pid>/fd: files, sockets,
 * pipes; the handles a leak would pile up); and how much disk its data
 * directory takes (the local bus keeps every segment: it grows with traffic).
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ResourceSample {
  rssBytes: number;
  /** Every open descriptor. */
  fds: number;
  /** Of which sockets: listening ones and the clients' connections, which come and go with their concurrency. */
  sockets: number;
}

/** One reading of the process's RSS and open descriptors; throws when the process is gone. */
export async function readResources(pid: number): Promise<ResourceSample> {
  const [status, fds] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readdir(`/proc/${pid}/fd`),
  ]);
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!rss) throw new Error(`no VmRSS in /proc/${pid}/status (a zombie?)`);
  // Each entry links to what it is: `socket:[inode]`, `pipe:[…]`, `anon_inode:…` or a path.
  const targets = await Promise.all(
    fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => 'closed meanwhile')),
  );
  const sockets = targets.filter((t) => t.startsWith('socket:')).length;
  return { rssBytes: Number(rss[1]) * 1024, fds: fds.length, sockets };
}

/** Bytes of the files under `dir` (0 when it does not exist). */
export async function dirBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    total += await stat(join(entry.parentPath, entry.name)).then(
      (s) => s.size,
      () => 0, // removed meanwhile (a segment compacted, a temp file renamed)
    );
  }
  return total;
}
