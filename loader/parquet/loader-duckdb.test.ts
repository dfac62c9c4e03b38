/**
 * The rollups count people only: rows flagged `is_bot` are left out, rows of
 * files written before the column existed count (an hour may mix both kinds
 * of file after a late event), and an hour of old files alone still rolls up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_TABLES, type RollupTable } from '../../shared/warehouse.ts';
import { type LoaderDuckDb, openLoaderDuckDb, sqlString } from './loader-duckdb.ts';

describe('rollups', () => {
  let dir: string;
  let duck: LoaderDuckDb;
  let read: (sql: string) => Promise<Record<string, unknown>[]>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-duckdb-'));
    duck = await openLoaderDuckDb({
      memoryLimit: '256MB',
      threads: 1,
      tempDir: join(dir, 'tmp'),
      rowGroupSize: 1000,
      sortEvents: true,
    });
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    read = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const ts = "TIMESTAMP '2026-11-25 09:00:00'";
    // Written before is_bot: no such column.
    await read(
      `COPY (SELECT 'p' AS project_id, 'old-visitor' AS visitor_id, '$pageview' AS event, 'page' AS type, ${ts} AS event_time, NULL::VARCHAR AS page_path, NULL::VARCHAR AS page_url, NULL::VARCHAR AS referrer_host, NULL::VARCHAR AS utm_source, NULL::VARCHAR AS utm_medium, NULL::VARCHAR AS utm_campaign, NULL::VARCHAR AS country, NULL::VARCHAR AS browser, NULL::VARCHAR AS os, NULL::VARCHAR AS device) TO ${sqlString(join(dir, 'old.parquet'))} (FORMAT parquet)`,
    );
    await read(
      `COPY (SELECT *, NULL::VARCHAR AS page_path, NULL::VARCHAR AS page_url, NULL::VARCHAR AS referrer_host, NULL::VARCHAR AS utm_source, NULL::VARCHAR AS utm_medium, NULL::VARCHAR AS utm_campaign, NULL::VARCHAR AS country, NULL::VARCHAR AS browser, NULL::VARCHAR AS os, NULL::VARCHAR AS device FROM (VALUES ('p', 'person', '$pageview', 'page', ${ts}, false), ('p', 'crawler', '$pageview', 'page', ${ts}, true), ('p', 'no-agent', 'Signed Up', 'track', ${ts}, NULL)) t(project_id, visitor_id, event, type, event_time, is_bot)) TO ${sqlString(join(dir, 'new.parquet'))} (FORMAT parquet)`,
    );
  });

  afterAll(async () => {
    duck?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function rollup(files: string[]) {
    const out = Object.fromEntries(ROLLUP_TABLES.map((t) => [t, join(dir, `${t}.parquet`)])) as Record<
      RollupTable,
      string
    >;
    await duck.rollups(
      files.map((f) => join(dir, f)),
      out,
    );
    return {
      visitors: (await read(`SELECT visitor_id FROM ${sqlString(out.visitors_hourly)} ORDER BY 1`)).map(
        (r) => r.visitor_id,
      ),
      events: await read(
        `SELECT event, events::INT AS events FROM ${sqlString(out.events_hourly)} ORDER BY 1`,
      ),
    };
  }

  it('leave bots out, and count old files and unflagged rows as people', async () => {
    const both = await rollup(['old.parquet', 'new.parquet']);
    expect(both.visitors).toEqual(['no-agent', 'old-visitor', 'person']);
    expect(both.events).toEqual([
      { event: '$pageview', events: 2 },
      { event: 'Signed Up', events: 1 },
    ]);
  });

  it('roll up an hour of files from before is_bot alone', async () => {
    const old = await rollup(['old.parquet']);
    expect(old.visitors).toEqual(['old-visitor']);
  });
});
