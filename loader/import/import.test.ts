/**
 * `loader import` on the embedded adapters: a Segment-shaped NDJSON export
 * (no projectId, no enrichment) lands each event in the hour of its own
 * `receivedAt` (else `timestamp`), importing it twice adds nothing, and a
 * malformed line or one with no time is a dead letter with its reason, not
 * a failed import. Our own archive imports too, gzip and zstd are read, and
 * an import that dies is undone by the next load.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedLoader, embeddedLoader } from '../fixtures/embedded-ports.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { layoutOf } from '../loader-deps.ts';
import { LoaderState } from '../loader-state.ts';
import { runOnce } from '../run-once.ts';
import { importEvents } from './import.ts';

const H9 = Date.UTC(2025, 2, 3, 9, 0);

/** One Segment export line: the spec event as Segment's S3 destination writes it. */
function segmentLine(i: number): Record<string, unknown> {
  const received = new Date(H9 + i * 150_000); // 40 events over 100 minutes: 24 in 09, 16 in 10
  return {
    type: i % 3 === 0 ? 'page' : 'track',
    ...(i % 3 === 0
      ? { name: 'Home', properties: { path: '/', url: 'https://shop.example/' } }
      : { event: 'Order Completed', properties: { revenue: i } }),
    messageId: `seg-${i}`,
    anonymousId: `anon-${i % 7}`,
    ...(i % 5 === 0 ? { userId: `user-${i}` } : {}),
    timestamp: new Date(received.getTime() - 2_000).toISOString(),
    sentAt: new Date(received.getTime() - 1_000).toISOString(),
    receivedAt: received.toISOString(),
    originalTimestamp: new Date(received.getTime() - 2_500).toISOString(),
    context: {
      library: { name: 'analytics.js', version: '4.1.0' },
      userAgent: 'Mozilla/5.0',
      ip: '203.0.113.9',
    },
    integrations: {},
    version: 2,
  };
}

describe('loader import', () => {
  let ports: EmbeddedLoader;

  beforeEach(async () => {
    ports = await embeddedLoader('loader-import');
  });
  afterEach(() => ports.close());

  async function exportFile(name: string, lines: string[], gzip = false): Promise<string> {
    const path = join(ports.dir, name);
    const text = `${lines.join('\n')}\n`;
    await writeFile(path, gzip ? gzipSync(text) : text);
    return path;
  }

  it('lands a Segment export in its hours, twice adds nothing, bad lines are dead letters', async () => {
    const events = Array.from({ length: 40 }, (_, i) => segmentLine(i));
    const noTime = { type: 'track', event: 'x', messageId: 'no-time' };
    const file = await exportFile(
      'segment.ndjson.gz',
      [
        ...events.slice(0, 20).map((e) => JSON.stringify(e)),
        '{"type":"track", broken',
        JSON.stringify(noTime),
        // An event without receivedAt is placed by its timestamp.
        JSON.stringify({ ...events[20], receivedAt: undefined, timestamp: '2025-03-03T10:59:59.000Z' }),
        ...events.slice(21).map((e) => JSON.stringify(e)),
      ],
      true,
    );

    const first = await importEvents(ports.h.deps, { from: file, project: 'shop' });
    expect(first).toMatchObject({ ok: true, command: 'import', events: 40, malformed: 2, duplicates: 0 });
    expect(first.hours).toEqual(['2025-03-03T09', '2025-03-03T10']);
    // seg-20 moved to 10 by its timestamp.
    expect(await ports.h.countsByHour()).toEqual({ '2025-03-03T09': 23, '2025-03-03T10': 17 });

    const { events: table, eventsHourly } = ports.h.deps.settings.tables;
    const [row] = await ports.h.query(
      `SELECT project_id, event, visitor_id, epoch_ms(received_at) AS r, epoch_ms(event_time) AS t, epoch_ms(sent_at) AS s, country FROM ${table} WHERE message_id = 'seg-5'`,
    );
    const e5 = events[5] as { receivedAt: string; timestamp: string; sentAt: string };
    expect(row).toMatchObject({
      project_id: 'shop',
      event: 'Order Completed',
      visitor_id: 'user-5',
      country: null,
    });
    expect(Number(row?.r)).toBe(Date.parse(e5.receivedAt));
    expect(Number(row?.t)).toBe(Date.parse(e5.timestamp));
    expect(Number(row?.s)).toBe(Date.parse(e5.sentAt));
    const [moved] = await ports.h.query(
      `SELECT hour, epoch_ms(received_at) AS r FROM ${table} WHERE message_id = 'seg-20'`,
    );
    expect(moved).toMatchObject({ hour: '10' });
    expect(Number(moved?.r)).toBe(Date.parse('2025-03-03T10:59:59.000Z'));
    const [rollup] = await ports.h.query(`SELECT sum(events) AS n FROM ${eventsHourly}`);
    expect(Number(rollup?.n)).toBe(40);

    const letters: string[] = [];
    const prefix = `${ports.h.deps.settings.warehousePrefix}_loader/dead-letter/`;
    for await (const o of ports.store.list(prefix)) {
      letters.push(new TextDecoder().decode((await ports.store.get(o.key)) ?? new Uint8Array()));
    }
    const reasons = letters
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason);
    expect(reasons.sort()).toEqual([
      'no receivedAt, timestamp, originalTimestamp or sentAt to place it in an hour',
      'not JSON',
    ]);

    const files = async () => {
      const keys: string[] = [];
      for await (const o of ports.store.list(`${ports.h.deps.settings.warehousePrefix}events/`))
        keys.push(o.key);
      return keys;
    };
    const before = await files();
    expect(before.every((k) => /\/import-[0-9a-f]{12}-\d+\.parquet$/.test(k))).toBe(true);
    const second = await importEvents(ports.h.deps, { from: file, project: 'shop' });
    expect(second).toMatchObject({ ok: true, events: 0, duplicates: 40, malformed: 2, files: 0 });
    expect(await ports.h.countsByHour()).toEqual({ '2025-03-03T09': 23, '2025-03-03T10': 17 });
    expect(await files()).toEqual(before);
  });

  it('imports our own archive into a fresh warehouse: the same rows', async () => {
    const T0 = Date.UTC(2026, 10, 25, 9, 0);
    await ports.h.produce([...syntheticEvents(300, { seed: 8, startMs: T0, spanMs: 2 * 3_600_000 })]);
    await runOnce(ports.h.deps);
    const { tables, warehousePrefix } = ports.h.deps.settings;
    const rows = await ports.h.query(`SELECT * EXCLUDE (dt, hour) FROM ${tables.events} ORDER BY message_id`);

    // Another warehouse (prefix and tables) on the same store, fed from the first one's archive prefix.
    const other = {
      ...ports.h.deps.settings,
      warehousePrefix: 'other/',
      tables: Object.fromEntries(Object.entries(tables).map(([k, v]) => [k, `${v}_b`])) as typeof tables,
    };
    const result = await importEvents(
      { ...ports.h.deps, settings: other },
      { from: `${warehousePrefix}archive/` },
    );
    expect(result).toMatchObject({ ok: true, events: 300, malformed: 0 });
    expect(
      await ports.h.query(`SELECT * EXCLUDE (dt, hour) FROM ${other.tables.events} ORDER BY message_id`),
    ).toEqual(rows);
  });

  it('an import that died is undone by the next load; importing again loads it whole', async () => {
    const file = await exportFile(
      'part.ndjson',
      Array.from({ length: 10 }, (_, i) => JSON.stringify(segmentLine(i))),
    );
    const state = new LoaderState(ports.h.deps.store, layoutOf(ports.h.deps), ports.h.deps.settings.topic);
    await importEvents(ports.h.deps, { from: file, project: 'shop' });
    // As if it died after its upload: its manifest still there, listing its files and their indexes.
    const keys: string[] = [];
    for (const under of ['events/', '_loader/dedup/']) {
      for await (const o of ports.store.list(`${ports.h.deps.settings.warehousePrefix}${under}`))
        keys.push(o.key);
    }
    await state.writePending({
      runId: 'dead-import',
      command: 'import',
      keys,
      hours: [Math.floor(Date.UTC(2025, 2, 3, 9) / 3_600_000)],
    });
    const run = await runOnce(ports.h.deps);
    expect(run.repaired).toMatch(/import dead-import stopped before it finished/);
    expect(await ports.h.countsByHour()).toEqual({});
    const { eventsHourly } = ports.h.deps.settings.tables;
    expect(await ports.h.query(`SELECT * FROM ${eventsHourly}`)).toEqual([]);
    expect(await importEvents(ports.h.deps, { from: file, project: 'shop' })).toMatchObject({ events: 10 });
    expect(await ports.h.countsByHour()).toEqual({ '2025-03-03T09': 10 });
  });
});
