/**
 * @module One measured load for the edge benchmarks (edge.ts, edge-worker.ts):
 * autocannon in a child process, so the load generator does not share the
 * measured server's event loop, with the CPU seconds of the processes
 * watched read from /proc around it. Also the event those benchmarks post.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  /** CPU seconds (user + system, from /proc/<pid>/stat) of each watched process during the load. */
  cpu: Record<string, number>;
  /** Peak resident set of this process (the edge or the bare server) during the load, MiB. */
  peakRssMiB: number;
}

export interface LoadOptions {
  url: string;
  bodyFile: string;
  /** `name=value` request headers. */
  headers: string[];
  connections: number;
  seconds: number;
  /** Requests per second across all connections (autocannon -R), else as fast as answered. */
  rate?: number;
  /** Processes whose CPU time is read before and after (name → a function of the pids to sum). */
  watch: Record<string, () => number[]>;
}

/** A browser page view as analytics.js sends it, ~540 bytes, without a messageId. */
export function benchEvent(i: number) {
  return {
    type: i % 3 === 0 ? 'track' : 'page',
    event: 'Product Viewed',
    name: 'Product',
    anonymousId: `anon-${(i * 7919).toString(36)}`,
    timestamp: new Date().toISOString(),
    properties: {
      path: '/products/42',
      url: 'https://shop.example/products/42',
      price: 19.99,
      currency: 'EUR',
    },
    context: {
      locale: 'de-DE',
      page: { path: '/products/42', referrer: 'https://search.example/?q=shoes', title: 'Shoes' },
      library: { name: 'analytics.js', version: '5.2.0' },
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds in the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file. */
export function statCpuSeconds(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime: fields 14 and 15
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** A process and all its descendants (wrangler runs workerd as a child), from /proc's parent pids. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** CPU seconds of several processes together (a process that is gone counts 0). */
export function sumCpuSeconds(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    const s = cpuSeconds(pid);
    return Number.isNaN(s) ? sum : sum + s;
  }, 0);
}

/** Resets this process's peak RSS (VmHWM) so the next reading is the peak of one row. */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not permitted: the reading is then the peak since start, still an upper bound.
  }
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Runs autocannon once; the result also holds `cpu.loadgen`, autocannon's own CPU seconds. */
export async function runAutocannon(o: LoadOptions): Promise<LoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [cli, '-j', '-c', String(o.connections), '-d', String(o.seconds), '-m', 'POST'];
  if (o.rate !== undefined) args.push('-R', String(Math.max(1, Math.round(o.rate))));
  for (const h of o.headers) args.push('-H', h);
  args.push('-i', o.bodyFile, o.url);
  resetPeakRss();
  // The pids are resolved once, before: a process that starts during the load is not counted.
  const pids = Object.fromEntries(Object.entries(o.watch).map(([name, list]) => [name, list()]));
  const before = Object.fromEntries(Object.entries(pids).map(([name, p]) => [name, sumCpuSeconds(p)]));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // The load generator's own CPU, sampled while it runs (its /proc entry goes with it).
  let loadgenCpu = 0;
  const sampler = setInterval(() => {
    const s = cpuSeconds(child.pid ?? -1);
    if (!Number.isNaN(s)) loadgenCpu = s;
  }, 100);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const cpu = Object.fromEntries(
    Object.entries(pids).map(([name, p]) => [name, sumCpuSeconds(p) - (before[name] ?? Number.NaN)]),
  );
  cpu.loadgen = loadgenCpu;
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as {
    '2xx': number;
    non2xx: number;
    errors: number;
    duration: number;
    latency: { p50: number; p99: number };
  };
  return {
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpu,
    peakRssMiB: peakRssMiB(),
  };
}
