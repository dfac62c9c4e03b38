/**
 * The raw archive on the embedded adapters (local log, directory store,
 * DuckDB catalog): it holds exactly what a run consumed, dead letters and
 * bytes that are not UTF-8 included; `replay --source archive` rebuilds the
 * hours row for row once the bus has lost them; `loader.archive: false`
 * writes none. The same scenario on Kafka, s3proxy and HiveServer2, with a
 * SIGKILL mid-swap, is in archive.integration.test.ts.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { openLocalLogBus } from '../../shared/bus/local-log/local-log-bus.ts';
import { type EmbeddedLoader, embeddedLoader } from '../fixtures/embedded-ports.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { parseHour } from '../layout.ts';
import { replayHours } from '../replay.ts';
import { runOnce } from '../run-once.ts';
import { archiveMessages } from './archive-read.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);

function plain(m: ConsumedMessage) {
  return { ...m, value: Buffer.from(m.value).toString('hex') };
}

async function archived(ports: EmbeddedLoader): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const o of ports.store.list(`${ports.h.deps.settings.warehousePrefix}archive/`)) {
    for await (const m of archiveMessages(ports.store, o.key)) out.push(m);
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

async function onTheBus(ports: EmbeddedLoader): Promise<ConsumedMessage[]> {
  const { topic } = ports.h.deps.settings;
  const out: ConsumedMessage[] = [];
  for (const m of await ports.bus.watermarks(topic)) {
    if (m.high === m.low) continue;
    for await (const batch of ports.bus.read(topic, m.partition, m.low, m.high)) out.push(...batch);
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

describe('the raw archive', () => {
  let ports: EmbeddedLoader;

  beforeEach(async () => {
    ports = await embeddedLoader('loader-archive');
  });
  afterEach(() => ports.close());

  async function produceWithPoison(): Promise<number> {
    const events = [...syntheticEvents(900, { seed: 11, startMs: T0, spanMs: 3 * 3_600_000 })];
    await ports.h.produce(events);
    await ports.bus.produce(ports.h.deps.settings.topic, [
      { key: 'x', value: 'not json {', timestamp: T0 + 60_000 },
      { key: null, value: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0xc3]), timestamp: T0 + 3_700_000 },
      { key: 'dup', value: JSON.stringify(events[3]), timestamp: T0 + 7_300_000 },
    ]);
    return events.length + 3;
  }

  it('holds exactly the consumed messages, byte for byte, dead letters included', async () => {
    const produced = await produceWithPoison();
    const result = await runOnce(ports.h.deps);
    expect(result).toMatchObject({ ok: true, events: 900, malformed: 2, duplicates: 1 });
    expect(result.archived?.messages).toBe(produced);
    const inArchive = await archived(ports);
    expect(inArchive.length).toBe(produced);
    expect(inArchive.map(plain)).toEqual((await onTheBus(ports)).map(plain));
    // Hourly by bus time, named by first offset: 3 hours × 2 partitions.
    const keys: string[] = [];
    for await (const o of ports.store.list(`${ports.h.deps.settings.warehousePrefix}archive/`))
      keys.push(o.key);
    expect(keys.length).toBe(6);
    expect(keys[0]).toMatch(/archive\/events_\w+\/dt=2026-11-25\/hour=09\/events_\w+-\d+-0\.ndjson\.zst$/);
    // A second run consumes nothing and archives nothing.
    expect((await runOnce(ports.h.deps)).archived).toEqual({ objects: 0, messages: 0, bytes: 0 });
  });

  it('rebuilds the hours row for row from the archive once the bus has lost them', async () => {
    await produceWithPoison();
    await runOnce(ports.h.deps);
    const { events, eventsHourly, visitorsHourly } = ports.h.deps.settings.tables;
    const all = `SELECT * FROM ${events} ORDER BY message_id`;
    const before = await ports.h.query(all);
    const rollupsBefore = await ports.h.query(
      `SELECT * FROM ${eventsHourly} ORDER BY dt, hour, project_id, event`,
    );
    const visitorsBefore = await ports.h.query(
      `SELECT * FROM ${visitorsHourly} ORDER BY dt, hour, project_id, visitor_id`,
    );
    expect(before.length).toBe(900);

    // The bus starts over: an empty log, as after retention deleted the topic's data.
    const empty = await openLocalLogBus({ dir: join(ports.dir, 'bus-2'), fsync: 'never' });
    await empty.ensureTopic(ports.h.deps.settings.topic, 2);
    const deps = { ...ports.h.deps, bus: empty };
    // From the bus that lost them, a replay would swap the hours to nothing: refused, hours untouched.
    await expect(
      replayHours(deps, { from: parseHour('2026-11-25T09'), to: parseHour('2026-11-25T11') }),
    ).rejects.toMatchObject({ code: 'nothing_on_bus' });
    expect(await ports.h.query(all)).toEqual(before);
    const replay = await replayHours(deps, {
      from: parseHour('2026-11-25T09'),
      to: parseHour('2026-11-25T11'),
      source: 'archive',
    });
    await empty.close();
    expect(replay).toMatchObject({ ok: true, events: 900, malformed: 2 });
    // Rebuilt, not left alone: every events file is the replay's, in its new location.
    const files: string[] = [];
    for await (const o of ports.store.list(`${ports.h.deps.settings.warehousePrefix}events/`))
      files.push(o.key);
    expect(files.length).toBe(6);
    for (const f of files) expect(f).toContain(`/v=${replay.runId}/`);
    const after = await ports.h.query(all);
    expect(after).toEqual(before);
    expect(await ports.h.query(`SELECT * FROM ${eventsHourly} ORDER BY dt, hour, project_id, event`)).toEqual(
      rollupsBefore,
    );
    expect(
      await ports.h.query(`SELECT * FROM ${visitorsHourly} ORDER BY dt, hour, project_id, visitor_id`),
    ).toEqual(visitorsBefore);
  });

  it('refuses an archive replay over hours it holds nothing of, and writes none when switched off', async () => {
    const deps = { ...ports.h.deps, settings: { ...ports.h.deps.settings, archive: false } };
    await ports.h.produce([...syntheticEvents(50, { seed: 3, startMs: T0, spanMs: 3_600_000 })]);
    expect((await runOnce(deps)).archived).toBeUndefined();
    expect(await archived(ports)).toEqual([]);
    await expect(
      replayHours(deps, {
        from: parseHour('2026-11-25T09'),
        to: parseHour('2026-11-25T09'),
        source: 'archive',
      }),
    ).rejects.toThrow(/archive holds nothing/);
    expect(await ports.h.countsByHour()).toEqual({ '2026-11-25T09': 50 });
  });
});
