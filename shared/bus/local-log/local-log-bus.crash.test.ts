/**
 * The local log against a real kill -9: a child process appends with fsync
 * 'always' and prints what was acknowledged; it is SIGKILLed mid-stream (and
 * inside a large write); the log reopened here must hold every acknowledged
 * record exactly once, cut the torn tail, and take appends after it.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readTopic } from '../bus.contract.ts';
import { openLocalLogBus } from './local-log-bus.ts';

const fixture = fileURLToPath(new URL('../fixtures/produce-until-killed.ts', import.meta.url));
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Total bytes of every segment file of the log: grows while a write is under way. */
function logBytes(dir: string): number {
  let total = 0;
  const topicDir = join(dir, 'topics', 'events');
  for (const partition of readdirSync(topicDir)) {
    if (partition === 'topic.json') continue;
    for (const file of readdirSync(join(topicDir, partition))) {
      if (file.endsWith('.log')) total += statSync(join(topicDir, partition, file)).size;
    }
  }
  return total;
}

/**
 * Runs the child until `killWhen` says so, SIGKILLs it, and returns the ids it
 * acknowledged. `killWhen` sees each stdout line and the acks so far.
 */
async function runAndKill(
  dir: string,
  mode: 'stream' | 'bulk',
  segmentBytes: number,
  seed: number,
  killWhen: (line: string, acked: number) => Promise<boolean> | boolean,
): Promise<Set<string>> {
  const child = spawn(process.execPath, [fixture, dir, mode, String(segmentBytes), String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, signal) => resolve(signal)),
  );
  const acked = new Set<string>();
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('ack ')) for (const id of line.slice(4).split(' ')) acked.add(id);
    if (!killed && (await killWhen(line, acked.size))) {
      child.kill('SIGKILL');
      killed = true;
    }
  }
  // Lines read after the kill were acknowledged before it: the loop drained the pipe.
  expect(await exited, `child ended by itself: ${stderr}`).toBe('SIGKILL');
  return acked;
}

async function reopenAndCheck(
  dir: string,
  acked: Set<string>,
  warnings: Record<string, unknown>[],
  label: string,
) {
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  const bus = await openLocalLogBus({ dir }, logger);
  const ids = (await readTopic(bus, 'events')).map(
    (m) => (JSON.parse(Buffer.from(m.value).toString()) as { id: string }).id,
  );
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost = [...acked].filter((id) => !counts.has(id));
  expect(lost, 'acknowledged but missing after recovery').toEqual([]);
  expect(
    [...counts].filter(([, n]) => n > 1),
    'stored twice',
  ).toEqual([]);

  // Appends continue right after the recovered tail.
  const before = await bus.watermarks('events');
  await bus.produce('events', [{ key: null, value: JSON.stringify({ id: `after-${label}` }) }]);
  const after = await bus.watermarks('events');
  expect(after.reduce((n, w) => n + w.high, 0)).toBe(before.reduce((n, w) => n + w.high, 0) + 1);
  await bus.close();
  return ids.length;
}

describe('local log: kill -9 of a real producer process', () => {
  it('keeps every acknowledged record through repeated kills mid-stream, with frequent segment rolls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'b2h-crash-'));
    dirs.push(dir);
    const allAcked = new Set<string>();
    for (let cycle = 0; cycle < 3; cycle++) {
      const acked = await runAndKill(dir, 'stream', 64 * 1024, 100 + cycle, (_line, n) => n >= 1500);
      expect(acked.size).toBeGreaterThanOrEqual(1500);
      for (const id of acked) allAcked.add(id);
      const stored = await reopenAndCheck(dir, allAcked, [], `cycle-${cycle}`);
      expect(stored).toBeGreaterThanOrEqual(allAcked.size);
    }
  });

  it('cuts the torn tail of a write killed halfway, and loses nothing acknowledged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'b2h-crash-'));
    dirs.push(dir);
    let bulkStartBytes = -1;
    const acked = await runAndKill(dir, 'bulk', 1024 * 1024 * 1024, 7, async (line) => {
      if (line === 'bulk-start') bulkStartBytes = logBytes(dir);
      if (bulkStartBytes < 0) return false;
      // Kill once the 64 MB write has visibly begun: the kernel stops a write
      // between pages for a fatal signal, leaving part of it on disk.
      while (logBytes(dir) < bulkStartBytes + 4 * 1024 * 1024) await new Promise((r) => setImmediate(r));
      return true;
    });
    expect([...acked].some((id) => id.includes('-bulk-'))).toBe(false);
    const warnings: Record<string, unknown>[] = [];
    await reopenAndCheck(dir, acked, warnings, 'bulk');
    const truncations = warnings.filter((w) => typeof w.truncatedBytes === 'number' && w.truncatedBytes > 0);
    expect(truncations.length).toBeGreaterThanOrEqual(1);
  });
});
