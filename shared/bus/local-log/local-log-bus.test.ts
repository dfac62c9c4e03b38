import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../directory-lock.ts';
import { BusError } from '../../errors.ts';
import { readRange, readTopic, runBusContract } from '../bus.contract.ts';
import { type LocalLogBusConfig, openLocalLogBus } from './local-log-bus.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-local-log-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A pino logger whose lines land in `lines`, to check what recovery reported. */
function capturingLogger(lines: Record<string, unknown>[]) {
  return pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
}

runBusContract('local log (fsync always)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-local-contract-'));
  // Small segments so the contract also crosses segment boundaries.
  const bus = await openLocalLogBus({ dir, fsync: 'always', segmentBytes: 256 * 1024 });
  return { bus, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

runBusContract('local log (fsync interval)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'b2h-local-contract-'));
  const bus = await openLocalLogBus({ dir, fsync: 'interval', fsyncIntervalMs: 20 });
  return { bus, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

function flipByte(bytes: Buffer, at: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
}

async function segmentFiles(dir: string, topic: string, partition: number, ext: string): Promise<string[]> {
  const partitionDir = join(dir, 'topics', topic, String(partition));
  return (await readdir(partitionDir))
    .filter((f) => f.endsWith(`.${ext}`))
    .sort()
    .map((f) => join(partitionDir, f));
}

async function fill(config: LocalLogBusConfig, count: number, valueBytes = 100): Promise<void> {
  const bus = await openLocalLogBus(config);
  await bus.ensureTopic('t', 1);
  await bus.produce(
    't',
    Array.from({ length: count }, (_, i) => ({
      key: 'k',
      value: `${String(i).padStart(8, '0')}${'x'.repeat(valueBytes - 8)}`,
      timestamp: 1_700_000_000_000 + i * 10,
    })),
  );
  await bus.close();
}

describe('LocalLogBus', () => {
  it('keeps records, watermarks and commits across a close and reopen', async () => {
    const dir = await tempDir();
    const first = await openLocalLogBus({ dir });
    await first.ensureTopic('events', 2);
    await first.produce(
      'events',
      Array.from({ length: 20 }, (_, i) => ({ key: `u${i}`, value: `v${i}` })),
    );
    await first.commit('loader', 'events', [{ partition: 1, offset: 3 }]);
    const marks = await first.watermarks('events');
    await first.close();

    const second = await openLocalLogBus({ dir });
    expect(await second.watermarks('events')).toEqual(marks);
    expect(await second.committed('loader', 'events')).toEqual([{ partition: 1, offset: 3 }]);
    expect((await readTopic(second, 'events')).map((m) => Buffer.from(m.value).toString()).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `v${i}`).sort(),
    );
    await second.produce('events', [{ key: 'u1', value: 'after reopen' }]);
    const total = (await second.watermarks('events')).reduce((n, w) => n + w.high, 0);
    expect(total).toBe(21);
    await second.close();
  });

  it('rolls segments, writes their indexes, and reads and searches across them after reopen', async () => {
    const dir = await tempDir();
    const config = { dir, segmentBytes: 8 * 1024, indexIntervalBytes: 512 };
    await fill(config, 1000);
    const logs = await segmentFiles(dir, 't', 0, 'log');
    expect(logs.length).toBeGreaterThan(10);
    expect((await segmentFiles(dir, 't', 0, 'index')).length).toBe(logs.length - 1);

    const bus = await openLocalLogBus(config);
    expect(await bus.watermarks('t')).toEqual([{ partition: 0, low: 0, high: 1000 }]);
    const range = await readRange(bus, 't', 0, 333, 777);
    expect(range.map((m) => m.offset)).toEqual(Array.from({ length: 444 }, (_, i) => 333 + i));
    expect(Buffer.from(range[0]!.value).toString().slice(0, 8)).toBe('00000333');
    expect((await bus.offsetsForTime('t', 1_700_000_000_000 + 5005))[0]!.offset).toBe(501);
    expect((await bus.offsetsForTime('t', 1_800_000_000_000))[0]!.offset).toBe(1000);
    await bus.close();
  });

  it('rebuilds a lost or stale index of a sealed segment from the log', async () => {
    const dir = await tempDir();
    const config = { dir, segmentBytes: 8 * 1024 };
    await fill(config, 300);
    const [firstIndex, secondIndex] = await segmentFiles(dir, 't', 0, 'index');
    await rm(firstIndex!);
    await writeFile(secondIndex!, 'garbage');
    const bus = await openLocalLogBus(config);
    expect((await readRange(bus, 't', 0, 0, 300)).map((m) => m.offset)).toEqual(
      Array.from({ length: 300 }, (_, i) => i),
    );
    await bus.close();
  });

  it('truncates a torn tail at open and continues appending after the last whole record', async () => {
    const dir = await tempDir();
    await fill({ dir }, 10);
    const [log] = await segmentFiles(dir, 't', 0, 'log');
    const size = (await stat(log!)).size;
    // Cut the last frame in the middle, as a crash during write() leaves it.
    await truncate(log!, size - 40);
    const lines: Record<string, unknown>[] = [];
    const bus = await openLocalLogBus({ dir }, capturingLogger(lines));
    expect(await bus.watermarks('t')).toEqual([{ partition: 0, low: 0, high: 9 }]);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, truncatedBytes: size - 40 - (size / 10) * 9, nextOffset: 9 }),
    ]);
    await bus.produce('t', [{ key: 'k', value: 'next' }]);
    const all = await readRange(bus, 't', 0, 0, 10);
    expect(all.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Buffer.from(all[9]!.value).toString()).toBe('next');
    await bus.close();
  });

  it('truncates a tail whose bytes were corrupted (CRC mismatch), keeping what precedes it', async () => {
    const dir = await tempDir();
    await fill({ dir }, 10);
    const [log] = await segmentFiles(dir, 't', 0, 'log');
    const bytes = await readFile(log!);
    const frame = bytes.length / 10;
    // Flip bytes inside the value of the 8th record and append zeros (a pre-allocated, never-written tail).
    flipByte(bytes, frame * 7 + 60);
    await writeFile(log!, Buffer.concat([bytes, Buffer.alloc(4096)]));
    const bus = await openLocalLogBus({ dir });
    expect(await bus.watermarks('t')).toEqual([{ partition: 0, low: 0, high: 7 }]);
    expect((await stat(log!)).size).toBe(frame * 7);
    await bus.produce('t', [{ key: 'k', value: 'after' }]);
    expect((await readRange(bus, 't', 0, 7, 8))[0]!.offset).toBe(7);
    await bus.close();
  });

  it('reports damage inside a sealed segment instead of reading wrong data', async () => {
    const dir = await tempDir();
    const config = { dir, segmentBytes: 8 * 1024 };
    await fill(config, 300);
    const [firstLog] = await segmentFiles(dir, 't', 0, 'log');
    const bytes = await readFile(firstLog!);
    flipByte(bytes, 200);
    await writeFile(firstLog!, bytes);
    const bus = await openLocalLogBus(config);
    await expect(readRange(bus, 't', 0, 0, 300)).rejects.toThrow(/CRC mismatch/);
    await bus.close();
  });

  it('lets one process own a directory, and takes over the lock of a dead one', async () => {
    const dir = await tempDir();
    const bus = await openLocalLogBus({ dir });
    await expect(openLocalLogBus({ dir })).rejects.toMatchObject({ code: 'log_locked' });
    await bus.close();
    // A lock left by a process that is gone (pid 2^22 is above Linux's pid_max default).
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: 4_194_304, host: (await import('node:os')).hostname() }),
    );
    const again = await openLocalLogBus({ dir });
    await again.close();
    await expect(stat(join(dir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses unknown topics, oversized messages, bad names and use after close', async () => {
    const dir = await tempDir();
    const bus = await openLocalLogBus({ dir, maxRecordBytes: 1024 });
    await expect(bus.produce('missing', [{ key: null, value: 'x' }])).rejects.toMatchObject({
      code: 'unknown_topic',
    });
    await expect(bus.ensureTopic('../escape', 1)).rejects.toBeInstanceOf(BusError);
    await bus.ensureTopic('t', 1);
    await expect(bus.produce('t', [{ key: null, value: 'x'.repeat(2000) }])).rejects.toMatchObject({
      status: 413,
      retriable: false,
    });
    await bus.close();
    await expect(bus.watermarks('t')).rejects.toMatchObject({ code: 'closed' });
  });

  it('serializes concurrent appends to one partition into whole, dense frames', async () => {
    const dir = await tempDir();
    const bus = await openLocalLogBus({ dir, segmentBytes: 16 * 1024 });
    await bus.ensureTopic('t', 1);
    await Promise.all(
      Array.from({ length: 50 }, (_, call) =>
        bus.produce(
          't',
          Array.from({ length: 20 }, (_, i) => ({ key: 'same', value: `${call}:${i}` })),
        ),
      ),
    );
    await bus.close();
    const reopened = await openLocalLogBus({ dir });
    const all = await readRange(reopened, 't', 0, 0, 1000);
    expect(all.map((m) => m.offset)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Each call's 20 records stay contiguous: one queue, one write per batch.
    const calls = all.map((m) => Buffer.from(m.value).toString().split(':')[0]);
    for (let i = 0; i < 1000; i += 20) expect(new Set(calls.slice(i, i + 20)).size).toBe(1);
    await reopened.close();
  });
});
