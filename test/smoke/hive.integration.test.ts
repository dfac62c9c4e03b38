/**
 * Smoke test: the shared stack's HiveServer2 answers hive-driver and reads, through S3A, a
 * Parquet file that Node wrote (DuckDB) and uploaded to the S3 server, in an external table
 * partitioned by (dt, hour) as the product's tables are. TIMESTAMP values must read back as
 * the same UTC instant (DuckDB writes INT64 micros with isAdjustedToUTC=false; HiveServer2
 * runs in UTC so it does not shift them).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HiveSession, openHiveSession } from '../infra/hive-client.ts';
import { deleteTestPrefix, testS3Client } from '../infra/s3proxy.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv, stackS3Endpoint } from '../infra/stack-env.ts';

const ROWS = 1000;
// Row i has ts = FIRST_TS + i seconds; micros are there to catch a lossy reader.
const FIRST_TS = '2026-11-25 10:11:12.345678';
const FIRST_TS_MS = Date.UTC(2026, 10, 25, 10, 11, 12, 345);

/** Hive's TIMESTAMP text ('yyyy-MM-dd HH:mm:ss.ffffff') read as a UTC instant, in ms. */
function hiveTimestampToMs(text: string): number {
  return Date.parse(`${text.replace(' ', 'T').slice(0, 23)}Z`);
}

describe('HiveServer2 smoke', () => {
  printServerLogsOnFailure(['hive', 's3']);
  const env = readStackEnv();
  const s3 = testS3Client(stackS3Endpoint(env));
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const table = `smoke_hive_${id}`;
  const prefix = `smoke-hive/${id}/`;
  const partitionPrefix = `${prefix}dt=2026-11-25/hour=10/`;
  let hive: HiveSession;
  let scratch: string;

  beforeAll(async () => {
    hive = await openHiveSession({ host: env.HIVE_HOST, port: env.HIVE_PORT, auth: env.HIVE_AUTH });
    scratch = await mkdtemp(join(tmpdir(), 'smoke-hive-'));
  });

  afterAll(async () => {
    await hive?.query(`DROP TABLE IF EXISTS ${table}`);
    await hive?.close();
    await deleteTestPrefix(s3, env.S3_BUCKET, prefix);
    s3.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('counts the rows of a Node-written Parquet file in a registered s3a:// partition', async () => {
    const file = join(scratch, 'part-0.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    try {
      await connection.run(
        `COPY (
           SELECT i AS id, 'event-' || i AS name, TIMESTAMP '${FIRST_TS}' + to_seconds(i) AS ts
           FROM range(${ROWS}) AS t(i)
         ) TO '${file}' (FORMAT parquet)`,
      );
    } finally {
      connection.closeSync();
      duck.closeSync();
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: env.S3_BUCKET,
        Key: `${partitionPrefix}part-0.parquet`,
        Body: await readFile(file),
      }),
    );

    await hive.query(
      `CREATE EXTERNAL TABLE ${table} (id BIGINT, name STRING, ts TIMESTAMP)
       PARTITIONED BY (dt STRING, hour STRING)
       STORED AS PARQUET
       LOCATION 's3a://${env.S3_BUCKET}/${prefix}'`,
    );
    await hive.query(
      `ALTER TABLE ${table} ADD IF NOT EXISTS PARTITION (dt='2026-11-25', hour='10')
       LOCATION 's3a://${env.S3_BUCKET}/${partitionPrefix}'`,
    );
    expect(await hive.query(`SHOW PARTITIONS ${table}`)).toEqual([{ partition: 'dt=2026-11-25/hour=10' }]);
    expect(await hive.query(`SELECT count(*) AS n FROM ${table}`)).toEqual([{ n: ROWS }]);
  });

  it('reads a TIMESTAMP back as the same UTC instant', async () => {
    const rows = await hive.query(
      `SELECT id, name, CAST(ts AS STRING) AS ts FROM ${table} WHERE id IN (0, 7) ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 0, name: 'event-0', ts: FIRST_TS },
      { id: 7, name: 'event-7', ts: '2026-11-25 10:11:19.345678' },
    ]);
    expect(hiveTimestampToMs(String(rows[1]?.ts))).toBe(FIRST_TS_MS + 7000);
  });
});
