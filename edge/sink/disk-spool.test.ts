import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SinkUnavailableError } from '../edge-errors.ts';
import { DiskSpool, type DiskSpoolOptions } from './disk-spool.ts';
import { decodeFrames, encodeFrames } from './spool-frame.ts';

const text = (s: string) => new TextEncoder().encode(s);
const strings = (records: Buffer[]) => records.map((r) => r.toString('utf8'));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<DiskSpoolOptions> = {}): DiskSpoolOptions {
  return {
    dir,
    maxBytes: 1024 * 1024,
    segmentBytes: 256,
    fullRetryAfterSeconds: 9,
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

describe('spool frames', () => {
  it('round-trip and stop at a torn or corrupt record', () => {
    const buf = encodeFrames([text('one'), text('two'), text('three')]);
    expect(strings(decodeFrames(buf).payloads)).toEqual(['one', 'two', 'three']);
    const torn = buf.subarray(0, buf.byteLength - 2);
    expect(strings(decodeFrames(torn).payloads)).toEqual(['one', 'two']);
    const flipped = Buffer.from(buf);
    flipped.writeUInt8(flipped.readUInt8(8 + 3 + 8) ^ 0xff, 8 + 3 + 8); // first byte of "two"
    const decoded = decodeFrames(flipped);
    expect(strings(decoded.payloads)).toEqual(['one']);
    expect(decoded.validBytes).toBe(8 + 3);
  });
});

describe('DiskSpool', () => {
  it('keeps records across a reopen and hands segments out oldest first', async () => {
    const spool = await DiskSpool.open(options());
    for (let i = 0; i < 30; i++) await spool.append([text(`record-${i}`)]);
    expect(spool.stats().records).toBe(30);
    expect(spool.stats().segments).toBeGreaterThan(1);
    // No close: as after kill -9, only what was fsynced counts.
    const reopened = await DiskSpool.open(options());
    expect(reopened.stats().records).toBe(30);
    const seen: string[] = [];
    for (;;) {
      const segment = await reopened.takeOldest();
      if (!segment) break;
      seen.push(...strings(segment.records));
      await reopened.remove(segment.id);
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `record-${i}`));
    expect(reopened.isEmpty()).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not delete a segment that was taken but not removed', async () => {
    const spool = await DiskSpool.open(options());
    await spool.append([text('a'), text('b')]);
    const segment = await spool.takeOldest();
    expect(strings(segment!.records)).toEqual(['a', 'b']);
    // The drainer crashed before the bus acked: the next process sees them again.
    const reopened = await DiskSpool.open(options());
    expect(strings((await reopened.takeOldest())!.records)).toEqual(['a', 'b']);
  });

  it('cuts a torn tail at recovery and keeps appending after it', async () => {
    const spool = await DiskSpool.open(options({ segmentBytes: 1024 * 1024 }));
    await spool.append([text('kept-1'), text('kept-2')]);
    const [file] = await readdir(dir);
    // A crash in the middle of the next write: a header and half a payload.
    await appendFile(join(dir, file!), Buffer.from([0, 0, 0, 20, 1, 2, 3, 4, 65, 66]));
    const reopened = await DiskSpool.open(options({ segmentBytes: 1024 * 1024 }));
    expect(reopened.stats().records).toBe(2);
    expect((await stat(join(dir, file!))).size).toBe(2 * 8 + 12);
    await reopened.append([text('after')]);
    const all: string[] = [];
    for (let s = await reopened.takeOldest(); s; s = await reopened.takeOldest()) {
      all.push(...strings(s.records));
      await reopened.remove(s.id);
    }
    expect(all).toEqual(['kept-1', 'kept-2', 'after']);
  });

  it('refuses appends past maxBytes with spool_full and Retry-After, and takes them again once drained', async () => {
    const spool = await DiskSpool.open(options({ maxBytes: 100 }));
    await spool.append([text('x'.repeat(40))]);
    const full = await spool.append([text('y'.repeat(60))]).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(SinkUnavailableError);
    expect(full).toMatchObject({ code: 'spool_full', status: 503, retryAfterSeconds: 9 });
    const segment = await spool.takeOldest();
    await spool.remove(segment!.id);
    await spool.append([text('y'.repeat(60))]);
    expect(spool.stats().records).toBe(1);
  });

  it('counts concurrent appends against the bound before they reach the disk', async () => {
    const spool = await DiskSpool.open(options({ maxBytes: 200 }));
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => spool.append([text('z'.repeat(52))])),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(spool.stats().bytes).toBeLessThanOrEqual(200);
  });

  it('refuses appends after close but keeps what it holds', async () => {
    const spool = await DiskSpool.open(options());
    await spool.append([text('held')]);
    await spool.close();
    await expect(spool.append([text('late')])).rejects.toMatchObject({ code: 'shutting_down' });
    const reopened = await DiskSpool.open(options());
    expect(strings((await reopened.takeOldest())!.records)).toEqual(['held']);
  });
});
