/**
 * Scaled-out loaders on the real stack (Kafka, s3proxy, HiveServer2): real
 * `node loader/cli.ts run` processes sharing one consumer group.
 *
 * - Three processes on one topic of 6 partitions, events over three hours;
 *   one is SIGKILLed after its first upload (its slot's lock and pending
 *   manifest left behind, written with a different file size so the re-run
 *   cannot simply overwrite them); the other two finish; one more pass
 *   settles. Through HiveServer2: every distinct event once, and every rollup
 *   object equal to the rollups recomputed from the hour's raw files.
 * - Two topics matched by a pattern (`eu…events`, `us…events`, as MirrorMaker
 *   names them on the central cluster) holding the same event twice (an edge
 *   failover): loaded once, because its key sends it to the same partition
 *   number of both topics, which one process owns.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { type EnrichedEvent, eventKey } from '../shared/event.ts';
import { ROLLUP_TABLES } from '../shared/warehouse.ts';
import { runLoaderCli } from './fixtures/embedded-cli.ts';
import { expectedCounts, type LoaderHarness, uniqueId } from './fixtures/loader-harness.ts';
import { realLoaderSuite } from './fixtures/real-loader-suite.ts';
import { spawnLoader } from './fixtures/spawn-loader.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import { WarehouseLayout } from './layout.ts';
import { LoaderState } from './loader-state.ts';
import { lazyLoaderDuckDb, sqlString } from './parquet/loader-duckdb.ts';
import type { LoaderStatus } from './status.ts';
import { dataFilesAt } from './steps/rollup.ts';

// Kafka refuses timestamps an hour ahead of its clock: the test's hours are the last few before now.
const T0 = (Math.floor(Date.now() / 3_600_000) - 6) * 3_600_000;

describe('scaled-out loaders: one consumer group, slots per process', () => {
  const suite = realLoaderSuite('loader-scale-out');

  /** A config file for the child processes: scaled out, a short session so a killed member leaves soon. */
  async function scaledConfig(
    h: LoaderHarness,
    name: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const file = await suite.configFile(h.deps.settings);
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const out = join(suite.dir, `${name}.json`);
    await writeFile(
      out,
      JSON.stringify({ ...config, scaleOut: { enabled: true, sessionTimeoutMs: 6000 }, ...extra }),
    );
    return out;
  }

  /** Stored rollup object vs the rollups recomputed (the loader's own SQL) from the hour's files: rows that differ. */
  async function rollupDifferences(h: LoaderHarness, hours: number[]): Promise<Record<string, number>> {
    const layout = new WarehouseLayout(h.deps.settings.warehousePrefix);
    const work = await mkdtemp(join(suite.dir, 'rollups-'));
    const duckdb = lazyLoaderDuckDb({
      memoryLimit: '512MB',
      threads: 1,
      tempDir: work,
      rowGroupSize: 100_000,
      sortEvents: true,
    });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const diff: Record<string, number> = {};
    try {
      for (const hour of hours) {
        // Its current location: compaction (after each pass) may have moved it to a `v=…/` of its own.
        const location = await new LoaderState(
          suite.ports.store,
          layout,
          h.deps.settings.topic,
        ).eventsLocation(hour);
        const keys = await dataFilesAt(h.deps, location);
        const local: string[] = [];
        for (const [i, key] of keys.entries()) {
          const path = join(work, `${hour}-${i}.parquet`);
          await writeFile(path, (await suite.ports.store.get(key)) as Uint8Array);
          local.push(path);
        }
        const fresh = Object.fromEntries(
          ROLLUP_TABLES.map((t) => [t, join(work, `${hour}-${t}-fresh.parquet`)]),
        );
        await duckdb.rollups(local, fresh as Record<(typeof ROLLUP_TABLES)[number], string>);
        for (const table of ROLLUP_TABLES) {
          const stored = join(work, `${hour}-${table}-stored.parquet`);
          const bytes = await suite.ports.store.get(layout.rollupKey(table, hour));
          expect(bytes, `${table} of hour ${hour}`).not.toBeNull();
          await writeFile(stored, bytes as Uint8Array);
          const a = `read_parquet(${sqlString(stored)})`;
          const b = `read_parquet(${sqlString(fresh[table] as string)})`;
          const rows = (
            await conn.runAndReadAll(
              `SELECT (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})) +
                      (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a})) AS n,
                      (SELECT count(*) FROM ${b}) AS fresh`,
            )
          ).getRowObjects()[0] as { n: bigint; fresh: bigint };
          expect(Number(rows.fresh), `${table} of hour ${hour} has rows`).toBeGreaterThan(0);
          diff[`${table}@${hour}`] = Number(rows.n);
        }
      }
    } finally {
      conn.closeSync();
      await duckdb.close();
      await rm(work, { recursive: true, force: true });
    }
    return diff;
  }

  it('three processes on 6 partitions, one SIGKILLed mid-load: the rest finish, a re-run settles, Hive and rollups exact', async () => {
    const h = await suite.harness({ partitions: 6 });
    const events = [...syntheticEvents(3000, { seed: 1313, startMs: T0, spanMs: 3 * 3_600_000 })];
    // Retries (the same messageId sent twice, as an SDK or the spool does): dropped wherever they land.
    await h.produce([...events, ...events.slice(0, 150)]);

    // Small files for the one that dies, so the re-run's names differ and its leftovers must be deleted.
    const dying = await scaledConfig(h, 'dying', { maxRowsPerFile: 40 });
    const normal = await scaledConfig(h, 'normal');
    const [killed, b, c] = await Promise.all([
      spawnLoader(dying, ['run'], { LOADER_CRASH_AT: 'after-upload' }),
      spawnLoader(normal),
      spawnLoader(normal),
    ]);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(b, b.stderr).toMatchObject({ code: 0 });
    expect(c, c.stderr).toMatchObject({ code: 0 });

    const settle = await spawnLoader(normal);
    expect(settle, settle.stderr).toMatchObject({ code: 0 });

    // Every slot committed in its own record, and no load left unsettled.
    const layout = new WarehouseLayout(h.deps.settings.warehousePrefix);
    const { group, topic } = h.deps.settings;
    for (let p = 0; p < 6; p++) {
      expect(
        await suite.ports.store.get(layout.pendingKey(`${group}/p${p}/${topic}`)),
        `slot ${p} pending`,
      ).toBeNull();
      expect(
        await suite.ports.store.get(layout.offsetsKey(`${group}/p${p}/${topic}`)),
        `slot ${p} offsets`,
      ).not.toBeNull();
    }
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const [all] = await h.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS ids FROM ${h.deps.settings.tables.events}`,
    );
    expect(all).toMatchObject({ n: 3000, ids: 3000 });
    const [raw] = await h.query(
      `SELECT count(*) AS n FROM ${h.deps.settings.tables.events} WHERE coalesce(is_bot, false) = false`,
    );
    const [rollup] = await h.query(`SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly}`);
    expect(Number(rollup?.n)).toBe(Number(raw?.n));
    const hours = [0, 1, 2].map((i) => Math.floor(T0 / 3_600_000) + i);
    const diff = await rollupDifferences(h, hours);
    expect(
      Object.values(diff).every((n) => n === 0),
      JSON.stringify(diff),
    ).toBe(true);
    // The group's offsets were moved through a live member: Kafka's lag tools see the progress.
    const committed = await suite.ports.bus.committed(group, topic);
    const marks = await suite.ports.bus.watermarks(topic);
    expect(committed.sort((x, y) => x.partition - y.partition)).toEqual(
      marks.map((m) => ({ partition: m.partition, offset: m.high })),
    );
  }, 600_000);

  it('two regions matched by a pattern: a failover duplicate in both topics is loaded once', async () => {
    const id = uniqueId('re');
    const h = await suite.harness({ id, partitions: 1 });
    const eu = `${id}.eu.events`;
    const us = `${id}.us.events`;
    await suite.ports.bus.ensureTopic(eu, 3);
    await suite.ports.bus.ensureTopic(us, 3);
    const produce = async (topic: string, list: EnrichedEvent[]) =>
      suite.ports.bus.produce(
        topic,
        list.map((e) => ({
          key: eventKey(e),
          value: JSON.stringify(e),
          timestamp: Date.parse(e.receivedAt),
        })),
      );
    const euOnly = [...syntheticEvents(400, { seed: 71, startMs: T0, spanMs: 2 * 3_600_000 })];
    const usOnly = [...syntheticEvents(300, { seed: 72, startMs: T0, spanMs: 2 * 3_600_000 })];
    // Failed over: acknowledged by both regions, so mirrored into both central topics.
    const both = euOnly.slice(0, 120);
    await produce(eu, euOnly);
    await produce(us, [...usOnly, ...both]);

    const config = await scaledConfig(h, 'regions', {
      scaleOut: { enabled: true, sessionTimeoutMs: 6000, topicPattern: `${id}\\..*\\.events` },
    });
    const [one, two] = await Promise.all([spawnLoader(config), spawnLoader(config)]);
    expect(one, one.stderr).toMatchObject({ code: 0 });
    expect(two, two.stderr).toMatchObject({ code: 0 });
    const [all] = await h.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS ids FROM ${h.deps.settings.tables.events}`,
    );
    expect(all).toMatchObject({ n: 700, ids: 700 });
    expect(await h.countsByHour()).toEqual(expectedCounts([...euOnly, ...usOnly]));
    // Both topics loaded, each partition under its slot's own record, up to the end of the topic.
    const layout = new WarehouseLayout(h.deps.settings.warehousePrefix);
    for (const topic of [eu, us]) {
      for (const m of await suite.ports.bus.watermarks(topic)) {
        const bytes = await suite.ports.store.get(
          layout.offsetsKey(`${h.deps.settings.group}/p${m.partition}/${topic}`),
        );
        const record = JSON.parse(new TextDecoder().decode(bytes as Uint8Array)) as { offsets: unknown };
        expect(record.offsets).toEqual([{ partition: m.partition, offset: m.high }]);
      }
    }
    // `loader status` finds the topics by the pattern, as the loaders did, and reads every slot.
    const status = runLoaderCli(config, ['status', '--json'], { LOG_LEVEL: 'error' });
    expect(status.status, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as LoaderStatus;
    expect(s).toMatchObject({ topic: `${eu}, ${us}`, lag: 0, lock: null, pendingRun: null });
    expect(s.scaledOut?.slots.map((slot) => slot.topics.map((t) => [t.topic, t.lag]))).toEqual(
      [0, 1, 2].map(() => [
        [eu, 0],
        [us, 0],
      ]),
    );
  }, 300_000);
});
