/**
 * @module The one test suite every adapter of the bus port must pass: if the
 * local log and Kafka both pass it, one-machine mode is honest. Adapters call
 * `runBusContract(name, factory)` from their own test file and add their own
 * tests beside it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError } from '../errors.ts';
import type { BusMessage, ConsumedMessage, EventBus } from './bus.ts';
import { seededRandom } from './fixtures/seeded-random.ts';

export interface BusContractFixture {
  bus: EventBus;
  /** Runs once after the suite (the bus is closed by then): delete what the suite made. */
  cleanup(created: { topics: string[]; groups: string[] }): Promise<void>;
}

export async function readRange(
  bus: EventBus,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<ConsumedMessage[]> {
  const all: ConsumedMessage[] = [];
  for await (const batch of bus.read(topic, partition, from, to)) {
    expect(batch.length).toBeGreaterThan(0);
    all.push(...batch);
  }
  return all;
}

export async function readTopic(bus: EventBus, topic: string): Promise<ConsumedMessage[]> {
  const all: ConsumedMessage[] = [];
  for (const w of await bus.watermarks(topic))
    all.push(...(await readRange(bus, topic, w.partition, w.low, w.high)));
  return all;
}

const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');

export function runBusContract(name: string, factory: () => Promise<BusContractFixture>): void {
  describe(`EventBus contract: ${name}`, () => {
    let fixture: BusContractFixture | undefined;
    const run = randomUUID().slice(0, 8);
    const topics: string[] = [];
    const groups: string[] = [];
    const bus = (): EventBus => fixture!.bus;
    const newTopic = async (partitions: number): Promise<string> => {
      const topic = `contract-${run}-${topics.length}`;
      topics.push(topic);
      await bus().ensureTopic(topic, partitions);
      return topic;
    };
    const newGroup = (): string => {
      const group = `contract-${run}-group-${groups.length}`;
      groups.push(group);
      return group;
    };
    // Recent past: brokers may refuse timestamps too far in the future.
    const baseTime = Date.now() - 10 * 60_000;

    beforeAll(async () => {
      fixture = await factory();
    });

    afterAll(async () => {
      if (fixture === undefined) return;
      try {
        await fixture.bus.close();
      } finally {
        await fixture.cleanup({ topics, groups });
      }
    });

    it('creates a topic once; a new topic is empty', async () => {
      const topic = await newTopic(3);
      await bus().ensureTopic(topic, 3);
      expect(await bus().watermarks(topic)).toEqual([
        { partition: 0, low: 0, high: 0 },
        { partition: 1, low: 0, high: 0 },
        { partition: 2, low: 0, high: 0 },
      ]);
      const offsets = await bus().offsetsForTime(topic, baseTime);
      expect(offsets.sort((a, b) => a.partition - b.partition).map((o) => o.offset)).toEqual([0, 0, 0]);
      expect(await bus().committed(newGroup(), topic)).toEqual([]);
    });

    it('round-trips keys, values and timestamps, and keeps one key in one partition, in order', async () => {
      const topic = await newTopic(3);
      const random = seededRandom(1);
      const messages: BusMessage[] = [];
      const seqByKey = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const key = `project-1:user-${Math.floor(random() * 20)}-é`;
        const seq = seqByKey.get(key) ?? 0;
        seqByKey.set(key, seq + 1);
        const value = JSON.stringify({ i, key, seq, pad: 'x'.repeat(Math.floor(random() * 200)) });
        messages.push({
          key,
          value: i % 2 === 0 ? value : new TextEncoder().encode(value),
          timestamp: baseTime + i,
        });
      }
      await bus().produce(topic, messages);

      const consumed = await readTopic(bus(), topic);
      expect(consumed).toHaveLength(300);
      const partitionOfKey = new Map<string, number>();
      const lastSeq = new Map<string, number>();
      for (const m of consumed.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
        const body = JSON.parse(text(m.value)) as { i: number; key: string; seq: number };
        expect(m.key).toBe(body.key);
        expect(m.timestamp).toBe(baseTime + body.i);
        const original = messages[body.i]!.value;
        expect(text(m.value)).toBe(typeof original === 'string' ? original : text(original));
        expect(partitionOfKey.get(body.key) ?? m.partition).toBe(m.partition);
        partitionOfKey.set(body.key, m.partition);
        expect(body.seq).toBe((lastSeq.get(body.key) ?? -1) + 1);
        lastSeq.set(body.key, body.seq);
      }
      expect(new Set(consumed.map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    it('accepts messages without a key', async () => {
      const topic = await newTopic(2);
      await bus().produce(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: null, value: `keyless-${i}` })),
      );
      const consumed = await readTopic(bus(), topic);
      expect(consumed.map((m) => text(m.value)).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `keyless-${i}`).sort(),
      );
      expect(consumed.every((m) => m.key === null)).toBe(true);
    });

    it('moves the high watermarks by what was produced; an empty produce changes nothing', async () => {
      const topic = await newTopic(3);
      const total = async () => (await bus().watermarks(topic)).reduce((n, w) => n + w.high - w.low, 0);
      await bus().produce(topic, []);
      expect(await total()).toBe(0);
      await bus().produce(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      );
      expect(await total()).toBe(40);
      await bus().produce(topic, [{ key: 'k1', value: 'again' }]);
      expect(await total()).toBe(41);
    });

    it('finds the first offset at or after a time, and the high watermark past the last', async () => {
      const topic = await newTopic(1);
      await bus().produce(
        topic,
        Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: `v${i}`, timestamp: baseTime + i * 1000 })),
      );
      const at = async (t: number) => (await bus().offsetsForTime(topic, t))[0]!.offset;
      expect(await at(baseTime - 1)).toBe(0);
      expect(await at(baseTime)).toBe(0);
      expect(await at(baseTime + 10_000)).toBe(10);
      expect(await at(baseTime + 10_500)).toBe(11);
      expect(await at(baseTime + 49_000)).toBe(49);
      expect(await at(baseTime + 49_001)).toBe(50);
    });

    it('reads exactly [from, to), and nothing from an empty range', async () => {
      const topic = await newTopic(1);
      await bus().produce(
        topic,
        Array.from({ length: 100 }, (_, i) => ({ key: 'k', value: `v${i}` })),
      );
      const offsets = async (from: number, to: number) =>
        (await readRange(bus(), topic, 0, from, to)).map((m) => m.offset);
      expect(await offsets(10, 37)).toEqual(Array.from({ length: 27 }, (_, i) => 10 + i));
      expect(await offsets(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(await offsets(99, 100)).toEqual([99]);
      expect(await offsets(5, 5)).toEqual([]);
      expect(await offsets(100, 100)).toEqual([]);
      const [first] = await readRange(bus(), topic, 0, 42, 43);
      expect(text(first!.value)).toBe('v42');
    });

    it('refuses to read past the high watermark', async () => {
      const topic = await newTopic(1);
      await bus().produce(topic, [{ key: 'k', value: 'only' }]);
      await expect(readRange(bus(), topic, 0, 0, 2)).rejects.toBeInstanceOf(BusError);
    });

    it('stores committed offsets per group and partition', async () => {
      const topic = await newTopic(3);
      await bus().produce(
        topic,
        Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      );
      const group = newGroup();
      expect(await bus().committed(group, topic)).toEqual([]);
      await bus().commit(group, topic, [
        { partition: 0, offset: 5 },
        { partition: 2, offset: 7 },
      ]);
      const sorted = async (g: string) =>
        (await bus().committed(g, topic)).sort((a, b) => a.partition - b.partition);
      expect(await sorted(group)).toEqual([
        { partition: 0, offset: 5 },
        { partition: 2, offset: 7 },
      ]);
      await bus().commit(group, topic, [{ partition: 0, offset: 9 }]);
      expect(await sorted(group)).toEqual([
        { partition: 0, offset: 9 },
        { partition: 2, offset: 7 },
      ]);
      expect(await bus().committed(newGroup(), topic)).toEqual([]);
    });

    it('loses nothing when producers run concurrently, and keeps each call’s order per key', async () => {
      const topic = await newTopic(3);
      const calls = 10;
      const perCall = 50;
      await Promise.all(
        Array.from({ length: calls }, (_, call) =>
          bus().produce(
            topic,
            Array.from({ length: perCall }, (_, i) => ({
              key: `user-${i % 5}`,
              value: JSON.stringify({ call, i }),
            })),
          ),
        ),
      );
      const consumed = (await readTopic(bus(), topic)).sort(
        (a, b) => a.partition - b.partition || a.offset - b.offset,
      );
      expect(consumed).toHaveLength(calls * perCall);
      const last = new Map<string, number>();
      for (const m of consumed) {
        const { call, i } = JSON.parse(text(m.value)) as { call: number; i: number };
        const id = `${call}/${m.key}`;
        expect(i).toBeGreaterThan(last.get(id) ?? -1);
        last.set(id, i);
      }
      expect(new Set(consumed.map((m) => text(m.value))).size).toBe(calls * perCall);
    });

    it('takes a large batch in one produce and reads it back in several batches', async () => {
      const topic = await newTopic(2);
      const random = seededRandom(7);
      // 3,000 incompressible 1 KiB values: more than one request or segment can hold.
      const messages = Array.from({ length: 3000 }, (_, i) => {
        const value = new Uint8Array(1024);
        for (let b = 0; b < value.length; b++) value[b] = Math.floor(random() * 256);
        return { key: `key-${i % 13}`, value };
      });
      await bus().produce(topic, messages);
      let batches = 0;
      const seen = new Map<string, number>();
      for (const w of await bus().watermarks(topic)) {
        for await (const batch of bus().read(topic, w.partition, w.low, w.high)) {
          batches++;
          for (const m of batch) {
            const id = Buffer.from(m.value).toString('base64');
            seen.set(id, (seen.get(id) ?? 0) + 1);
          }
        }
      }
      expect(seen.size).toBe(3000);
      for (const m of messages) expect(seen.get(Buffer.from(m.value).toString('base64'))).toBe(1);
      expect(batches).toBeGreaterThan(2);
    });
  });
}
