/**
 * @module Summarises a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file):
 * the top functions by their share of the busy samples (CPU), with their wall
 * self time beside, and the same grouped by where their code lives (our edge
 * code by file, each node_modules package, Node internals, GC, idle). With the
 * main thread's CPU seconds that bench:edge writes beside the profile, each
 * share becomes µs of CPU per event. Used to write the profile table in
 * edge/README.md.
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
// Written by bench:edge beside the profile: how many events (and requests) it covers, and the
// main thread's CPU seconds meanwhile (thread-cpu.ts).
const covered = existsSync(`${file}.json`)
  ? (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as {
      events: number;
      requests: number;
      threads?: Record<string, number>;
    })
  : undefined;
const mainCpuUs = covered?.threads?.main === undefined ? undefined : covered.threads.main * 1e6;

// Self time per node from the sample deltas, and the number of samples. The deltas are wall
// time: on a loaded machine a thread that the kernel takes off its core (typically in the
// write() that wakes the broker or the client) leaves one sample with a long delta, charged to
// the function it stopped in. The samples themselves come at the sampling interval while the
// thread runs, so their share is the share of CPU: that is what sorts the tables, and what the
// main thread's CPU seconds (when bench:edge wrote them) are divided by.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const selfSamples = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
  selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
}
interface Cost {
  us: number;
  samples: number;
}
let total = 0;
let idle = 0;
let busySamples = 0;
const fns = new Map<string, Cost>();
const groups = new Map<string, Cost>();
const add = (m: Map<string, Cost>, key: string, us: number, samples: number) => {
  const c = m.get(key) ?? { us: 0, samples: 0 };
  c.us += us;
  c.samples += samples;
  m.set(key, c);
};
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const samples = selfSamples.get(id)!;
  total += us;
  if (functionName === '(idle)') idle += us;
  else busySamples += samples;
  const where = shortUrl(url);
  const fn = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
  add(fns, fn, us, samples);
  add(groups, groupOf(functionName, url), us, samples);
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

function print(title: string, entries: Map<string, Cost>, n: number): void {
  const cpu = covered && mainCpuUs !== undefined;
  console.log(`\n${title}\n`);
  console.log(
    `| % of busy samples | self ms (wall) | % of busy wall |${covered ? ' wall µs per event |' : ''}${cpu ? ' CPU µs per event |' : ''} function |`,
  );
  console.log(`|---:|---:|---:|${covered ? '---:|' : ''}${cpu ? '---:|' : ''}---|`);
  const rows = [...entries].filter(([k]) => k !== '(idle)').sort((a, b) => b[1].samples - a[1].samples);
  for (const [name, { us, samples }] of rows.slice(0, n)) {
    const sampleShare = samples / busySamples;
    const perEvent = covered ? ` ${(us / covered.events).toFixed(2)} |` : '';
    const cpuPerEvent = cpu ? ` ${((sampleShare * mainCpuUs) / covered.events).toFixed(2)} |` : '';
    console.log(
      `| ${(100 * sampleShare).toFixed(1)} % | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)} % |${perEvent}${cpuPerEvent} ${name.replace(/\|/g, '\\|')} |`,
    );
  }
}

console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (not idle), ${profile.samples.length} samples` +
    (covered
      ? `, ${covered.events} events in ${covered.requests} requests: ${(busy / covered.events).toFixed(1)} µs busy (wall) per event`
      : '') +
    (covered?.threads
      ? `; CPU seconds by thread: ${Object.entries(covered.threads)
          .map(([name, s]) => `${name} ${s}`)
          .join(', ')}` +
        (mainCpuUs === undefined
          ? ''
          : `, main thread ${(mainCpuUs / covered.events).toFixed(1)} µs of CPU per event`)
      : ''),
);
print('Top functions by self time', fns, top);
print('By module', groups, top);
