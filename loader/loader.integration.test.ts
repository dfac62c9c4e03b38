/**
 * The loader on the real stack: Kafka, s3proxy and HiveServer2 (shared, so
 * every test uses its own topic, prefix and table names, and cleans up).
 * Counts are read back through hive-driver (HiveCatalog).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../shared/event.ts';
import { EVENTS_COLUMNS } from '../shared/warehouse.ts';
import { expectedCounts } from './fixtures/loader-harness.ts';
import { realLoaderSuite } from './fixtures/real-loader-suite.ts';
import { spawnLoader } from './fixtures/spawn-loader.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import { parseHour } from './layout.ts';
import type { LoaderDeps } from './loader-deps.ts';
import { sqlString } from './parquet/loader-duckdb.ts';
import { replayHours } from './replay.ts';
import { runOnce } from './run-once.ts';
import { dataFilesAt } from './steps/rollup.ts';

// Kafka 4 refuses timestamps more than an hour ahead of its clock (log.message.timestamp.after.max.ms),
// and retention works on them too: the test's hours are the last few before now.
const T0 = (Math.floor(Date.now() / 3_600_000) - 6) * 3_600_000;

/** The i-th test hour: its partition values and its label. */
function hourAt(i: number): { dt: string; hour: string; label: string; ms: number } {
  const ms = T0 + i * 3_600_000;
  const iso = new Date(ms).toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13), label: iso.slice(0, 13), ms };
}

/** An ISO instant `ms` into the i-th test hour. */
function inHour(i: number, ms: number): string {
  return new Date(hourAt(i).ms + ms).toISOString().replace(/\.(\d{3})Z$/, '.$1Z');
}

function threeHours(count: number, seed: number): EnrichedEvent[] {
  return [...syntheticEvents(count, { seed, startMs: T0, spanMs: 3 * 3_600_000 })];
}

describe('loader on Kafka + S3 + HiveServer2', () => {
  const suite = realLoaderSuite('loader-it');

  it('loads three hours exactly once (duplicates dropped), a second run changes nothing, and every engine reads the types', async () => {
    const h = await suite.harness();
    const events = threeHours(3000, 101);
    // One event with microseconds, to see the exact instant come back from every reader.
    const precise: EnrichedEvent = {
      ...(events[0] as EnrichedEvent),
      messageId: 'precise-µs',
      timestamp: `${inHour(0, 15 * 60_000).slice(0, 19)}.123456Z`,
      sentAt: `${inHour(0, 15 * 60_000).slice(0, 19)}.5Z`,
      receivedAt: `${inHour(0, 15 * 60_000 + 1000).slice(0, 19)}.000001Z`,
      properties: { plan: 'pro', nested: { ok: true }, ünï: 'ü' },
    };
    await h.produce([...events, precise, ...events.slice(0, 200)]);
    const first = await runOnce(h.deps);
    expect(first).toMatchObject({ ok: true, events: 3001, duplicates: 200 });
    const expected = expectedCounts([...events, precise]);
    expect(await h.countsByHour()).toEqual(expected);

    const second = await runOnce(h.deps);
    expect(second).toMatchObject({ ok: true, events: 0, files: 0 });
    expect(await h.countsByHour()).toEqual(expected);

    const table = h.deps.settings.tables.events;
    const [row] = await h.query(
      `SELECT message_id, event_time, received_at, sent_at, properties, visitor_id,
              CAST(unix_timestamp(received_at) AS BIGINT) AS received_epoch
       FROM ${table} WHERE message_id = 'precise-µs'`,
    );
    const at = (ms: number) => new Date(hourAt(0).ms + ms).toISOString().slice(0, 19).replace('T', ' ');
    expect(row).toMatchObject({
      message_id: 'precise-µs',
      event_time: `${at(15 * 60_000)}.123456`,
      received_at: `${at(15 * 60_000 + 1000)}.000001`,
      sent_at: `${at(15 * 60_000)}.500000`,
      visitor_id: precise.userId ?? precise.anonymousId,
      // Hive's JVM runs in UTC (docs/warehouse.md, "Timestamps"): the epoch it computes is the instant we wrote.
      received_epoch: (hourAt(0).ms + 15 * 60_000 + 1000) / 1000,
    });
    expect(JSON.parse(String(row?.properties))).toEqual(precise.properties);
    // Every column readable through Hive with its declared type (a type mismatch fails the scan).
    const described = await h.query(`DESCRIBE ${table}`);
    const types = Object.fromEntries(
      described.map((d) => [String(d.col_name).trim(), String(d.data_type).trim()]),
    );
    for (const c of EVENTS_COLUMNS) expect(types[c.name], c.name).toBe(c.type.toLowerCase());
    const [all] = await h.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS ids, max(received_at) AS last FROM ${table}`,
    );
    expect(all).toMatchObject({ n: 3001, ids: 3001 });

    // The same file read by DuckDB and by an independent reader (hyparquet): the same instant.
    const prefix = h.deps.settings.warehousePrefix;
    const keys = [] as string[];
    keys.push(...(await dataFilesAt(h.deps, `${prefix}events/dt=${hourAt(0).dt}/hour=${hourAt(0).hour}/`)));
    const local: string[] = [];
    for (const [i, key] of keys.entries()) {
      const bytes = await suite.ports.store.get(key);
      const path = join(suite.dir, `read-${i}.parquet`);
      await writeFile(path, bytes ?? new Uint8Array());
      local.push(path);
    }
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const source = `read_parquet([${local.map(sqlString).join(', ')}])`;
    const duck = (
      await conn.runAndReadAll(
        `SELECT epoch_us(received_at) AS us, typeof(received_at) AS t FROM ${source} WHERE message_id = 'precise-µs'`,
      )
    ).getRowObjects()[0];
    expect(duck).toMatchObject({ t: 'TIMESTAMP' });
    const preciseUs = (hourAt(0).ms + 15 * 60_000 + 1000) * 1000 + 1;
    expect(Number(duck?.us)).toBe(preciseUs);
    conn.closeSync();
    db.closeSync();
    let found: bigint | undefined;
    for (const path of local) {
      const bytes = await suite.ports.store.get(keys[local.indexOf(path)] as string);
      const rows = await parquetReadObjects({
        file: (bytes as Uint8Array).slice().buffer,
        columns: ['message_id', 'received_at'],
        compressors,
        parsers: {
          timestampFromMilliseconds: (v: bigint) => v * 1000n,
          timestampFromMicroseconds: (v: bigint) => v,
          timestampFromNanoseconds: (v: bigint) => v / 1000n,
          dateFromDays: (d: number) => d,
          stringFromBytes: (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : b),
          geometryFromBytes: (b: Uint8Array | undefined) => b,
          geographyFromBytes: (b: Uint8Array | undefined) => b,
        },
      });
      const hit = rows.find((r) => r.message_id === 'precise-µs');
      if (hit) found = hit.received_at as bigint;
    }
    expect(found).toBe(BigInt(preciseUs));
  });

  it('puts late events into their old hour, and a replay with a changed transform replaces that hour only', async () => {
    const h = await suite.harness();
    const events = threeHours(1500, 202);
    await h.produce(events);
    await runOnce(h.deps);
    const late: EnrichedEvent = {
      ...(events[10] as EnrichedEvent),
      messageId: 'late-one',
      receivedAt: inHour(0, 3_599_999),
    };
    await h.produce([late]);
    expect(await runOnce(h.deps)).toMatchObject({ events: 1, files: 1, hours: [hourAt(0).label] });
    const expected = expectedCounts([...events, late]);
    expect(await h.countsByHour()).toEqual(expected);

    const table = h.deps.settings.tables.events;
    const h1 = hourAt(1);
    const notH1 = `NOT (dt = '${h1.dt}' AND hour = '${h1.hour}')`;
    const others = await h.query(
      `SELECT message_id, country FROM ${table} WHERE ${notH1} ORDER BY message_id`,
    );
    const fixed: LoaderDeps = { ...h.deps, transform: (row) => ({ ...row, country: 'ZZ' }) };
    const hour1 = parseHour(h1.label);
    const replay = await replayHours(fixed, { from: hour1, to: hour1 });
    expect(replay).toMatchObject({ ok: true, events: expected[h1.label] });
    expect(await h.countsByHour()).toEqual(expected);
    const [changed] = await h.query(
      `SELECT count(*) AS n, sum(CASE WHEN country = 'ZZ' THEN 1 ELSE 0 END) AS zz FROM ${table} WHERE dt = '${h1.dt}' AND hour = '${h1.hour}'`,
    );
    expect(changed).toMatchObject({ n: expected[h1.label], zz: expected[h1.label] });
    expect(
      await h.query(`SELECT message_id, country FROM ${table} WHERE ${notH1} ORDER BY message_id`),
    ).toEqual(others);
    const [rollup] = await h.query(
      `SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly} WHERE dt = '${h1.dt}' AND hour = '${h1.hour}'`,
    );
    expect(rollup).toMatchObject({ n: expected[h1.label] });
  });

  for (const crashAt of ['after-upload', 'after-register'] as const) {
    it(`repairs a loader SIGKILLed ${crashAt}: the re-run leaves every event exactly once`, async () => {
      const h = await suite.harness();
      const events = threeHours(2000, crashAt === 'after-upload' ? 303 : 404);
      await h.produce(events.slice(0, 1400));
      const config = await suite.configFile({ ...h.deps.settings, maxRowsPerFile: 200 });
      const crashed = await spawnLoader(config, ['run'], { LOADER_CRASH_AT: crashAt });
      expect(crashed.signal).toBe('SIGKILL');
      expect(await suite.ports.bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual([]);
      // More events before the re-run, and a different file size, so not every name is overwritten.
      await h.produce(events.slice(1400));
      const rerun = await spawnLoader(await suite.configFile(h.deps.settings));
      expect(rerun, rerun.stderr).toMatchObject({ code: 0 });
      expect(await h.countsByHour()).toEqual(expectedCounts(events));
      const [all] = await h.query(
        `SELECT count(*) AS n, count(DISTINCT message_id) AS ids FROM ${h.deps.settings.tables.events}`,
      );
      expect(all).toMatchObject({ n: 2000, ids: 2000 });
      const [rollup] = await h.query(`SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly}`);
      expect(rollup).toMatchObject({ n: 2000 });
    });
  }
});
