import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_COLUMNS } from '../../shared/warehouse.ts';
import { messageIdHash } from '../dedup/message-hash.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { hourOfMicros } from '../layout.ts';
import { type LoaderDuckDb, openLoaderDuckDb, sqlString } from '../parquet/loader-duckdb.ts';
import { toEventRow } from './map-event.ts';
import { HourBuckets } from './write.ts';

describe('HourBuckets + loader DuckDB', () => {
  let dir: string;
  let duckdb: LoaderDuckDb;
  const start = Date.UTC(2026, 10, 25, 9, 30);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-write-'));
    duckdb = await openLoaderDuckDb({
      memoryLimit: '256MB',
      threads: 1,
      tempDir: dir,
      rowGroupSize: 1000,
      sortEvents: true,
    });
  });
  afterAll(async () => {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('buckets by hour and partition, spills at maxRowsPerFile, names files by first offset', async () => {
    const buckets = new HourBuckets({ dir, duckdb, maxRowsPerFile: 400, flushChars: 10_000 });
    // 1000 events over 1 hour starting at :30 → about 500 in each of two hours, two partitions.
    let offset = 0;
    for (const e of syntheticEvents(1000, { seed: 11, startMs: start, spanMs: 3_600_000 })) {
      const row = toEventRow(e, 0);
      const partition = offset % 2;
      await buckets.append(
        hourOfMicros(row.received_at),
        partition,
        offset,
        row,
        messageIdHash(row.message_id),
      );
      offset++;
    }
    await buckets.closeAll();
    const files = [...buckets.written].sort(
      (a, b) => a.hour - b.hour || a.partition - b.partition || a.firstOffset - b.firstOffset,
    );
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(1000);
    expect(files.every((f) => f.rows <= 400 && f.hashes.length === f.rows)).toBe(true);
    // Each (hour, partition) has 250 rows: one file each, named by its first offset.
    expect(files.map((f) => [f.partition, f.firstOffset, f.rows])).toEqual([
      [0, 0, 250],
      [1, 1, 250],
      [0, 500, 250],
      [1, 501, 250],
    ]);
  });

  it('writes Parquet DuckDB reads with the intended types, TIMESTAMP exact to the µs', async () => {
    const buckets = new HourBuckets({ dir, duckdb, maxRowsPerFile: 10_000 });
    const row = toEventRow(
      {
        type: 'page',
        messageId: 'm-ü-1',
        anonymousId: 'anon',
        projectId: 'p1',
        timestamp: '2026-11-25T09:15:00.123456Z',
        receivedAt: '2026-11-25T09:15:01.000001Z',
        properties: { url: 'https://x.example/é', title: 'Ünïcode ✓' },
      },
      0,
    );
    await buckets.append(hourOfMicros(row.received_at), 0, 7, row, messageIdHash(row.message_id));
    await buckets.closeAll();
    const file = buckets.written[0]?.localPath ?? '';
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const types = (
      await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)
    ).getRowObjects();
    expect(types.map((t) => [t.column_name, t.column_type])).toEqual(
      EVENTS_COLUMNS.map((c) => [c.name, c.type === 'STRING' ? 'VARCHAR' : c.type]),
    );
    const got = (
      await conn.runAndReadAll(
        `SELECT message_id, page_title, epoch_us(event_time) AS et, epoch_us(received_at) AS ra, strftime(received_at, '%Y-%m-%dT%H:%M:%S.%f') AS ra_text
         FROM read_parquet(${sqlString(file)})`,
      )
    ).getRowObjects()[0];
    expect(got).toMatchObject({
      message_id: 'm-ü-1',
      page_title: 'Ünïcode ✓',
      ra_text: '2026-11-25T09:15:01.000001',
    });
    expect(Number(got?.et)).toBe(row.event_time);
    expect(Number(got?.ra)).toBe(row.received_at);
    const flag = (
      await conn.runAndReadAll(
        `SELECT logical_type FROM parquet_schema(${sqlString(file)}) WHERE name = 'received_at'`,
      )
    ).getRowObjects()[0];
    expect(String(flag?.logical_type)).toMatch(/isAdjustedToUTC=0/);
    conn.closeSync();
    db.closeSync();
  });
});
