/**
 * @module CPU seconds per thread of a process, from /proc/<pid>/task/<tid>/stat,
 * grouped by thread name: the edge's main thread apart from V8's helper threads
 * (concurrent marking, compilation: `V8Worker`) and libuv's pool (`libuv-worker`).
 * A V8 CPU profile covers the main thread only and counts wall time, so this
 * is what says how much of the process's CPU the profile can explain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { statCpuSeconds } from './autocannon-load.ts';

/** Thread name → CPU seconds (user + system) used so far; threads that ended are not counted. */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      byName.set(name, (byName.get(name) ?? 0) + statCpuSeconds(stat));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** What each thread name used between two readings (names absent before count from zero). */
export function threadCpuDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of after) {
    const d = s - (before.get(name) ?? 0);
    if (d > 0) out[name] = Math.round(d * 100) / 100;
  }
  return out;
}
