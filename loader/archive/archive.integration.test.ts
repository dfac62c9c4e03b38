/**
 * History past Kafka's retention, on the real stack (Kafka, s3proxy,
 * HiveServer2): a run archives exactly what it consumed; every record of the
 * topic is then deleted (retention forced down: its data gone), and `loader replay --source archive`
 * (the real CLI, SIGKILLed mid-swap once, then run again) rebuilds the hours
 * equal row for row, every column, through HiveServer2. A Segment export on
 * the object store imports into its hours, and importing it twice adds nothing.
 */
import { gzipSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { stackBrokers } from '../../shared/bus/fixtures/kafka-stack.ts';
import { realLoaderSuite } from '../fixtures/real-loader-suite.ts';
import { spawnLoader } from '../fixtures/spawn-loader.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { hourLabel } from '../layout.ts';
import { runOnce } from '../run-once.ts';
import { archiveMessages } from './archive-read.ts';

// Kafka 4 refuses timestamps more than an hour ahead of its clock: the test's hours are the last few before now.
const H0 = Math.floor(Date.now() / 3_600_000) - 6;
const T0 = H0 * 3_600_000;

const plain = (m: ConsumedMessage) => ({ ...m, value: Buffer.from(m.value).toString('hex') });
const byOffset = (a: ConsumedMessage, b: ConsumedMessage) => a.partition - b.partition || a.offset - b.offset;

describe('archive and import on Kafka + S3 + HiveServer2', () => {
  const suite = realLoaderSuite('archive-it', { deleteTopics: true });

  it('archives exactly what it consumed, and rebuilds the hours from it once the topic has no records left, SIGKILL mid-swap included', {
    // Two replays of three hours through HiveServer2 (each swap: a partition move and five rollups per hour).
    timeout: 600_000,
  }, async () => {
    const h = await suite.harness();
    const { topic, tables, warehousePrefix } = h.deps.settings;
    const events = [...syntheticEvents(1500, { seed: 77, startMs: T0, spanMs: 3 * 3_600_000 })];
    await h.produce(events);
    await suite.ports.bus.produce(topic, [
      { key: 'poison', value: 'not json {', timestamp: T0 + 60_000 },
      { key: null, value: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0xc3]), timestamp: T0 + 3_700_000 },
    ]);
    const run = await runOnce(h.deps);
    expect(run).toMatchObject({ ok: true, events: 1500, malformed: 2 });
    const produced: ConsumedMessage[] = [];
    for (const m of await suite.ports.bus.watermarks(topic)) {
      if (m.high > m.low)
        for await (const batch of suite.ports.bus.read(topic, m.partition, m.low, m.high))
          produced.push(...batch);
    }
    expect(produced.length).toBe(1502);

    const inArchive: ConsumedMessage[] = [];
    for await (const o of suite.ports.store.list(`${warehousePrefix}archive/`)) {
      for await (const m of archiveMessages(suite.ports.store, o.key)) inArchive.push(m);
    }
    expect(inArchive.length).toBe(1502);
    const bytes = (list: ConsumedMessage[]) => list.reduce((n, m) => n + m.value.length, 0);
    expect(bytes(inArchive)).toBe(bytes(produced));
    expect(inArchive.sort(byOffset).map(plain)).toEqual(produced.sort(byOffset).map(plain));

    const all = `SELECT * FROM ${tables.events} ORDER BY message_id`;
    const rollups = `SELECT * FROM ${tables.visitorsHourly} ORDER BY dt, hour, project_id, visitor_id`;
    const before = await h.query(all);
    const rollupsBefore = await h.query(rollups);
    expect(before.length).toBe(1500);

    // Retention forced down: every record of the topic deleted (the log start moves to the end).
    const admin = new kafkajs.Kafka({ brokers: stackBrokers(), logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const marks = await suite.ports.bus.watermarks(topic);
      await admin.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords needs the leaders known
      await admin.deleteTopicRecords({
        topic,
        partitions: marks.map((m) => ({ partition: m.partition, offset: String(m.high) })),
      });
    } finally {
      await admin.disconnect();
    }
    expect((await suite.ports.bus.watermarks(topic)).every((m) => m.low === m.high && m.high > 0)).toBe(true);

    const config = await suite.configFile(h.deps.settings);
    const range = ['replay', '--source', 'archive', '--from', hourLabel(H0), '--to', hourLabel(H0 + 2)];
    const crashed = await spawnLoader(config, range, { LOADER_CRASH_AT: 'mid-swap' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const replay = await spawnLoader(config, range);
    expect(replay, replay.stderr).toMatchObject({ code: 0 });

    const after = await h.query(all);
    expect(after).toEqual(before);
    expect(await h.query(rollups)).toEqual(rollupsBefore);
    // Rebuilt, not left as it was: every hour's files are in a replay's new location.
    const [files] = await h.query(
      `SELECT count(*) AS n, sum(CASE WHEN INPUT__FILE__NAME LIKE '%/v=%' THEN 1 ELSE 0 END) AS moved FROM ${tables.events}`,
    );
    expect(files).toMatchObject({ n: 1500, moved: 1500 });
  });

  it('imports a Segment export from the object store into its hours; twice adds nothing; a bad line is a dead letter', {
    timeout: 400_000,
  }, async () => {
    const h = await suite.harness();
    const { tables, warehousePrefix } = h.deps.settings;
    const lines = Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({
        type: 'track',
        event: 'Signed Up',
        messageId: `seg-it-${i}`,
        anonymousId: `a-${i % 9}`,
        properties: { plan: i % 2 ? 'pro' : 'free' },
        timestamp: new Date(T0 + i * 60_000 - 500).toISOString(),
        sentAt: new Date(T0 + i * 60_000 - 100).toISOString(),
        receivedAt: new Date(T0 + i * 60_000).toISOString(),
        context: { library: { name: 'analytics-node', version: '6.0.0' } },
      }),
    );
    lines.splice(50, 0, '{oops');
    const prefix = `${warehousePrefix}exports/segment/`;
    await suite.ports.store.put(`${prefix}2026-01-01/part-0.gz`, gzipSync(`${lines.join('\n')}\n`));
    const config = await suite.configFile(h.deps.settings);
    for (const round of [1, 2]) {
      const imported = await spawnLoader(config, ['import', prefix, '--project', 'acme']);
      expect(imported, `round ${round}: ${imported.stderr}`).toMatchObject({ code: 0 });
      expect(await h.countsByHour()).toEqual({
        [hourLabel(H0)]: 60,
        [hourLabel(H0 + 1)]: 60,
      });
    }
    const [row] = await h.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS ids, min(project_id) AS p FROM ${tables.events}`,
    );
    expect(row).toMatchObject({ n: 120, ids: 120, p: 'acme' });
    const [rollup] = await h.query(`SELECT sum(events) AS n FROM ${tables.eventsHourly}`);
    expect(rollup).toMatchObject({ n: 120 });
    const letters: string[] = [];
    for await (const o of suite.ports.store.list(`${warehousePrefix}_loader/dead-letter/`)) {
      letters.push(new TextDecoder().decode((await suite.ports.store.get(o.key)) ?? new Uint8Array()));
    }
    expect(
      letters
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toMatchObject([{ offset: 50, reason: 'not JSON', value: '{oops' }]);
  });
});
