import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { strandedSpools, workerSpoolDir } from './cluster.ts';

describe('cluster spools', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('worker 0 keeps the configured directory, the others a subdirectory each', () => {
    expect(workerSpoolDir('/var/spool/edge', 0)).toBe('/var/spool/edge');
    expect(workerSpoolDir('/var/spool/edge', 3)).toBe(join('/var/spool/edge', 'worker-3'));
  });

  it('names the spools of workers past the count that hold a non-empty segment, and only those', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-cluster-spools-'));
    const segment = async (worker: number, bytes: number) => {
      await mkdir(join(dir, `worker-${worker}`), { recursive: true });
      await writeFile(join(dir, `worker-${worker}`, '0000000000000001.seg'), Buffer.alloc(bytes, 1));
    };
    await writeFile(join(dir, '0000000000000001.seg'), Buffer.alloc(8, 1)); // worker 0's own
    await segment(1, 8); // within the count
    await segment(2, 0); // past it, but empty: nothing to strand
    await segment(3, 8); // past it, holding events
    await mkdir(join(dir, 'worker-4', 'dead'), { recursive: true }); // no segment
    expect(await strandedSpools(dir, 2)).toEqual([join(dir, 'worker-3')]);
    expect(await strandedSpools(dir, 4)).toEqual([]);
    expect(await strandedSpools(join(dir, 'absent'), 1)).toEqual([]);
  });
});
