/**
 * @module Summarises a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file):
 * the top functions by self time, and the same grouped by where their code
 * lives (our edge code by file, each node_modules package, Node internals,
 * GC, idle). Used to write the profile table in edge/README.md.
 *
 * Run: `node test/bench/cpu-profile-summary.ts <file.cpuprofile> [--top 25]`
 */
import { existsSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, ...rest] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [--top N]');
const top = rest[0] === '--top' ? Number(rest[1]) : 25;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
// Written by bench:edge beside the profile: how many events (and requests) it covers.
const covered = existsSync(`${file}.json`)
  ? (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { events: number; requests: number })
  : undefined;

// Self time per node from the sample deltas (hitCount alone ignores the sampling jitter).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
}
let total = 0;
let idle = 0;
const fns = new Map<string, number>();
const groups = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  total += us;
  if (functionName === '(idle)') idle += us;
  const where = shortUrl(url);
  const fn = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
  fns.set(fn, (fns.get(fn) ?? 0) + us);
  const group = groupOf(functionName, url);
  groups.set(group, (groups.get(group) ?? 0) + us);
}
const busy = total - idle;

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const repo = url.search(/\/(edge|shared|test)\//);
  if (repo >= 0) return url.slice(repo + 1);
  return url.replace(/^node:/, 'node:');
}

function groupOf(fn: string, url: string): string {
  if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn;
  if (url === '') return `(native: ${fn || 'anonymous'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  return shortUrl(url);
}

function print(title: string, entries: Map<string, number>, n: number): void {
  console.log(`\n${title}\n`);
  console.log(`| self ms | % of busy |${covered ? ' µs per event |' : ''} function |`);
  console.log(`|---:|---:|${covered ? '---:|' : ''}---|`);
  const rows = [...entries].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]);
  for (const [name, us] of rows.slice(0, n)) {
    const perEvent = covered ? ` ${(us / covered.events).toFixed(2)} |` : '';
    const share = ((100 * us) / busy).toFixed(1);
    console.log(`| ${(us / 1000).toFixed(0)} | ${share} % |${perEvent} ${name.replace(/\|/g, '\\|')} |`);
  }
}

console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (not idle), ${profile.samples.length} samples` +
    (covered
      ? `, ${covered.events} events in ${covered.requests} requests: ${(busy / covered.events).toFixed(1)} µs busy per event`
      : ''),
);
print('Top functions by self time', fns, top);
print('By module', groups, top);
