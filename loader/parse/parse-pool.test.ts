import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage, ConsumedMessage } from '../../shared/bus/bus.ts';
import { type LocalLogBus, openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { DuckDbCatalog } from '../../shared/catalog/duckdb/duckdb-catalog.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { DirObjectStore } from '../../shared/object-store/dir/dir-object-store.ts';
import { messageIdHash } from '../dedup/message-hash.ts';
import { expectedCounts, type LoaderHarness, loaderHarness } from '../fixtures/loader-harness.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { hourOfMicros, parseHour } from '../layout.ts';
import { runOnce } from '../run-once.ts';
import { rowOfMessage } from './parse-message.ts';
import { ParsePool } from './parse-pool.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);
const encode = (s: string) => new TextEncoder().encode(s);

function consumed(values: Uint8Array[], timestamp = T0): ConsumedMessage[] {
  return values.map((value, offset) => ({ partition: 0, offset, key: null, timestamp, value }));
}

describe('ParsePool (the parse threads)', () => {
  it('gives each message the outcome the loader thread would: rows as lines, dead letters with their reason', async () => {
    const events = [...syntheticEvents(40, { seed: 5, startMs: T0, spanMs: 3 * 3_600_000 })];
    const good = events[0] as EnrichedEvent;
    const depth = 150_000;
    const tooDeep = JSON.stringify({ ...good, messageId: 'too-deep', properties: 0 }).replace(
      '"properties":0',
      `"properties":${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`,
    );
    const odd: [Uint8Array, RegExp][] = [
      [new Uint8Array([0xff, 0xfe, 0x7b]), /^not JSON$/], // not UTF-8
      [encode('{"messageId": '), /^not JSON$/],
      [encode('[1,2]'), /^not a JSON object$/],
      [encode(JSON.stringify({ ...good, messageId: undefined })), /^no messageId$/],
      [encode(JSON.stringify({ ...good, projectId: '' })), /^no projectId$/],
      [encode(tooDeep), /^(cannot map: .+|not JSON)$/],
    ];
    // Odd messages between good ones, two threads, batches of every size: results come back per batch.
    const values: Uint8Array[] = [];
    events.forEach((e, i) => {
      values.push(encode(JSON.stringify(e)));
      if (i < odd.length) values.push((odd[i] as [Uint8Array, RegExp])[0]);
    });
    values.push(encode(JSON.stringify({ ...good, messageId: 'lone', event: '\udbff' })));
    const pool = new ParsePool({ threads: 2 });
    try {
      const messages = consumed(values);
      const batches = [messages.slice(0, 1), messages.slice(1, 9), messages.slice(9)];
      const parsed = await Promise.all(batches.map((b) => pool.parse(b)));
      let reasons = 0;
      batches.forEach((batch, b) => {
        const p = parsed[b];
        if (!p) throw new Error('no result');
        const lines = new TextDecoder().decode(p.lines);
        batch.forEach((m, i) => {
          const here = rowOfMessage(m.value, m.timestamp);
          const start = i === 0 ? 0 : (p.lineEnds[i - 1] as number);
          const line = new TextDecoder().decode(p.lines.subarray(start, p.lineEnds[i]));
          if (typeof here === 'string') {
            expect(p.reasons.get(i)).toBe(here);
            expect(Number.isNaN(p.hours[i])).toBe(true);
            expect(line).toBe('');
            reasons++;
            return;
          }
          expect(p.reasons.has(i)).toBe(false);
          expect(line).toBe(`${JSON.stringify(here)}\n`);
          expect(p.hours[i]).toBe(hourOfMicros(here.received_at));
          expect({ hi: p.hashHi[i], lo: p.hashLo[i] }).toEqual(messageIdHash(here.message_id));
        });
        expect(lines.split('\n').length - 1).toBe(batch.length - p.reasons.size);
      });
      expect(reasons).toBe(odd.length);
      const all = parsed.flatMap((p, b) => (batches[b] ?? []).map((_, i) => p.reasons.get(i)));
      for (const [value, reason] of odd) expect(all[values.indexOf(value)]).toMatch(reason);
      // The lone surrogate is repaired, as on the loader's thread.
      expect(new TextDecoder().decode(parsed[2]?.lines)).toContain('"event":"\uFFFD"');
    } finally {
      await pool.close();
    }
  });

  it('rejects with the cause when a thread dies (out of memory), and every call after it', async () => {
    const pool = new ParsePool({ threads: 1, maxOldGenerationSizeMb: 16 });
    try {
      const big = encode(
        JSON.stringify({
          ...syntheticEvents(1, { seed: 1, startMs: T0, spanMs: 1000 }).next().value,
          properties: { s: 'x'.repeat(4e6) },
        }),
      );
      const first = pool.parse(consumed(Array.from({ length: 20 }, () => big)));
      await expect(first).rejects.toThrow(/parse worker failed: .*memory/);
      await expect(pool.parse(consumed([encode('{}')]))).rejects.toThrow(/parse worker failed/);
    } finally {
      await pool.close();
    }
  });
});

describe('a load through the parse threads', () => {
  let dir: string;
  let bus: LocalLogBus;
  let catalog: DuckDbCatalog;
  let h: LoaderHarness;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parse-pool-'));
    // Batches of 7 messages: many batches per partition at the threads at once, split between two.
    bus = await openLocalLogBus({ dir: join(dir, 'bus'), fsync: 'never', readBatchRecords: 7 });
    const store = new DirObjectStore({ root: join(dir, 'warehouse') });
    catalog = await DuckDbCatalog.create({ store, workDir: join(dir, 'duckdb'), refreshIntervalMs: 0 });
    h = await loaderHarness(
      { bus, store, catalog },
      { partitions: 1, settings: { tempDir: join(dir, 'tmp'), parseThreads: 2 } },
    );
  });
  afterAll(async () => {
    await catalog.close();
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps bus order (the first copy of a messageId wins), stops exactly at --until, dead-letters junk', async () => {
    const events = [...syntheticEvents(400, { seed: 8, startMs: T0, spanMs: 2 * 3_600_000 })];
    const asMessage = (e: EnrichedEvent): BusMessage => ({ key: 'k', value: JSON.stringify(e) });
    // Every tenth event is sent again right after with another name: only the first may load.
    const messages: BusMessage[] = [];
    events.forEach((e, i) => {
      messages.push(asMessage(e));
      if (i % 10 === 0) messages.push(asMessage({ ...e, event: 'second copy' } as EnrichedEvent));
      if (i % 37 === 0) messages.push({ key: 'k', value: 'not json' });
    });
    await bus.produce(h.deps.settings.topic, messages);
    const firstLater = messages.findIndex(
      (m) => typeof m.value === 'string' && m.value.includes('"receivedAt":"2026-11-25T10'),
    );
    const run = await runOnce(
      { ...h.deps, settings: { ...h.deps.settings, archive: true } },
      {
        until: parseHour('2026-11-25T09'),
      },
    );
    expect(run.committed).toEqual([{ partition: 0, offset: firstLater }]);
    const before = events.filter((e) => e.receivedAt < '2026-11-25T10');
    expect(run.malformed).toBe(messages.slice(0, firstLater).filter((m) => m.value === 'not json').length);
    expect(await h.countsByHour()).toEqual(expectedCounts(before));
    expect(run.archived?.messages).toBe(firstLater);
    await runOnce(h.deps);
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const [row] = await h.query(
      `SELECT count(*) FILTER (WHERE event = 'second copy') AS second FROM ${h.deps.settings.tables.events}`,
    );
    expect(Number(row?.second)).toBe(0);
  });

  it('fails the load with the cause when a parse thread dies; nothing is committed, the next run is exact', async () => {
    const [e] = [...syntheticEvents(1, { seed: 9, startMs: T0 + 2 * 3_600_000, spanMs: 1000 })];
    // Under the local log's 1 MiB record limit, yet ≈10 MB of objects once parsed: a 16 MB heap dies.
    const big = { ...(e as EnrichedEvent), properties: { a: Array.from({ length: 290_000 }, () => ({})) } };
    const messages = Array.from({ length: 20 }, (_, i) => ({
      key: 'k',
      value: JSON.stringify({ ...big, messageId: `big-${i}` }),
    }));
    await bus.produce(h.deps.settings.topic, messages);
    const before = (await h.countsByHour()) as Record<string, number>;
    const starved = { ...h.deps, settings: { ...h.deps.settings, parseHeapMb: 16 } };
    await expect(runOnce(starved)).rejects.toThrow(/parse worker failed: .*memory/);
    expect(await h.countsByHour()).toEqual(before);
    const run = await runOnce(h.deps);
    expect(run.events).toBe(20);
    expect((await h.countsByHour())['2026-11-25T11']).toBe(20);
  });
});
