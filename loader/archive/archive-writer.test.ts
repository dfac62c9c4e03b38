import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import { WarehouseLayout } from '../layout.ts';
import { archiveMessages } from './archive-read.ts';
import { ArchiveWriter, uploadArchive } from './archive-writer.ts';

describe('ArchiveWriter (its worker thread)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-writer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every message of partitions added side by side, in order, past its backpressure', async () => {
    const work = join(dir, 'work');
    const store = new DirObjectStore({ root: join(dir, 'store') });
    await mkdir(work);
    const writer = new ArchiveWriter({ dir: work, layout: new WarehouseLayout(''), topic: 't' });
    const hourMs = Date.UTC(2026, 10, 25, 9);
    // Values are views into one shared buffer, as a Kafka client hands them out; one is not UTF-8.
    const shared = new TextEncoder().encode(`${'x'.repeat(1000)}{"a":"é"}`);
    const bytesOf = (p: number, o: number): Uint8Array =>
      o === 7 ? new Uint8Array([0xff, 0xfe, p]) : shared.subarray(o % 900, (o % 900) + 30 + p);
    const perPartition = 6_000; // several batches per partition, more than the writer lets wait at once
    const partitions = [0, 1, 2, 3];
    await Promise.all(
      partitions.map(async (p) => {
        for (let o = 0; o < perPartition; o++) {
          await writer.add({
            partition: p,
            offset: o,
            timestamp: hourMs + (o < perPartition / 2 ? 0 : 3_600_000),
            key: o % 5 === 0 ? null : `k${o}`,
            value: bytesOf(p, o),
          });
          // Interleave the partitions the way concurrent reads do.
          if (o % 700 === 0) await new Promise((r) => setImmediate(r));
        }
      }),
    );
    const objects = await writer.close();
    expect(objects).toHaveLength(partitions.length * 2);
    expect(objects.reduce((n, o) => n + o.messages, 0)).toBe(partitions.length * perPartition);
    await uploadArchive(store, objects, 4);
    for (const object of objects) {
      const got: ConsumedMessage[] = [];
      for await (const m of archiveMessages(store, object.key)) got.push(m);
      const p = got[0]?.partition ?? -1;
      const first = got[0]?.offset ?? -1;
      expect(got.map((m) => m.offset)).toEqual(Array.from({ length: perPartition / 2 }, (_, i) => first + i));
      for (const m of got) {
        expect(m.partition).toBe(p);
        expect(m.key).toBe(m.offset % 5 === 0 ? null : `k${m.offset}`);
        expect([...m.value]).toEqual([...bytesOf(p, m.offset)]);
      }
    }
  });

  it('fails the load clearly when its thread cannot write', async () => {
    const writer = new ArchiveWriter({
      dir: join(dir, 'no-such-dir'),
      layout: new WarehouseLayout(''),
      topic: 't',
    });
    const add = async () => {
      for (let o = 0; o < 20_000; o++)
        await writer.add({
          partition: 0,
          offset: o,
          timestamp: 0,
          key: null,
          value: new Uint8Array([123, 125]),
        });
      await writer.close();
    };
    await expect(add()).rejects.toThrow(/ENOENT/);
    await writer.destroy();
  });
});
