/**
 * The S3 server or HiveServer2 dies in the middle of a load: a private
 * s3proxy and a private HiveServer2 (never the shared stack's) are
 * SIGKILLed at a step boundary. The run must fail with a clear error and
 * commit nothing; once the server is back, the next run completes exactly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus } from '../shared/bus/kafka/kafka-bus.ts';
import { HiveCatalog } from '../shared/catalog/hive/hive-catalog.ts';
import { CatalogError, StoreError } from '../shared/errors.ts';
import { S3ObjectStore } from '../shared/object-store/s3/s3-object-store.ts';
import { freePort } from '../test/infra/free-port.ts';
import { type HiveHandle, startHive } from '../test/infra/hive.ts';
import { type S3ProxyHandle, startS3proxy } from '../test/infra/s3proxy.ts';
import { readStackEnv } from '../test/infra/stack-env.ts';
import { compare, report } from '../test/reliability/pipeline-fixture.ts';
import { expectedCounts, type LoaderHarness, loaderHarness } from './fixtures/loader-harness.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import type { LoaderDeps } from './loader-deps.ts';
import { runOnce } from './run-once.ts';
import { loaderStatus } from './status.ts';

/** Deps whose progress hook SIGKILLs a server as the run enters `step`. */
function killingAt(deps: LoaderDeps, step: string, pid: () => number): LoaderDeps {
  return {
    ...deps,
    progress: {
      consumed() {},
      step(name) {
        if (name === step) process.kill(pid(), 'SIGKILL');
      },
    },
  };
}

describe('loader when the S3 server or HiveServer2 dies mid-run', () => {
  const T0 = (Math.floor(Date.now() / 3_600_000) - 4) * 3_600_000;
  let dir: string;
  let s3: S3ProxyHandle;
  let hive: HiveHandle;
  let store: S3ObjectStore;
  let catalog: HiveCatalog;
  let bus: ReturnType<typeof createKafkaBus>;
  let h: LoaderHarness;

  beforeAll(async () => {
    const env = readStackEnv();
    dir = await mkdtemp(join(tmpdir(), 'loader-faults-'));
    s3 = await startS3proxy({
      port: await freePort(),
      dataDir: join(dir, 's3'),
      logDir: join(dir, 'logs'),
      buckets: ['faults'],
    });
    hive = await startHive({
      port: await freePort(),
      dataDir: join(dir, 'hive'),
      logDir: join(dir, 'logs'),
      s3: { endpoint: s3.endpoint, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey },
    });
    const logger = pino({ level: 'silent' });
    bus = createKafkaBus({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'loader-faults' }, logger);
    store = new S3ObjectStore({
      bucket: 'faults',
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    });
    catalog = new HiveCatalog({
      host: hive.host,
      port: hive.port,
      auth: hive.auth,
      retries: 0,
      connectTimeoutMs: 10_000,
      logger,
    });
    // A lock left by a run that died with the store cannot be released: keep its lease short.
    h = await loaderHarness(
      { bus, store, catalog },
      { partitions: 2, settings: { tempDir: join(dir, 'tmp'), lockTtlMs: 1000 } },
    );
  });

  const ids = (events: { messageId: string }[]) => events.map((e) => e.messageId);
  /** messageId → rows, through the private HiveServer2. */
  const counts = async () =>
    new Map(
      (
        await catalog.query(
          `SELECT message_id, count(*) AS n FROM ${h.deps.settings.tables.events} GROUP BY message_id`,
        )
      ).map((r) => [String(r.message_id), Number(r.n)]),
    );

  afterAll(async () => {
    await catalog?.close();
    await bus?.close();
    await hive?.stop();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('S3 dies before the upload: a clear StoreError, nothing committed; the next run is exact', async () => {
    const events = [...syntheticEvents(800, { seed: 31, startMs: T0, spanMs: 2 * 3_600_000 })];
    await h.produce(events);
    const failed = runOnce(killingAt(h.deps, 'upload', () => s3.pid));
    await expect(failed).rejects.toBeInstanceOf(StoreError);
    await expect(failed).rejects.toThrow(/S3|s3|connect|ECONNREFUSED/);
    expect(await bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual([]);
    await s3.restart();
    expect(await runOnce(h.deps)).toMatchObject({ ok: true, events: 800 });
    expect(await h.countsByHour()).toEqual(expectedCounts(events));
    const row = report(
      compare(
        's3proxy SIGKILLed as the upload starts (events produced to Kafka)',
        ids(events),
        await counts(),
      ),
    );
    expect(row).toMatchObject({ lost: 0, duplicated: 0 });
  });

  it('HiveServer2 dies before registration: a clear CatalogError, offsets unchanged; the next run is exact', async () => {
    const before = await bus.committed(h.deps.settings.group, h.deps.settings.topic);
    const events = [...syntheticEvents(600, { seed: 32, startMs: T0, spanMs: 2 * 3_600_000 })];
    await h.produce(events);
    const failed = runOnce(killingAt(h.deps, 'register', () => hive.pid));
    await expect(failed).rejects.toBeInstanceOf(CatalogError);
    expect(await bus.committed(h.deps.settings.group, h.deps.settings.topic)).toEqual(before);
    const status = await loaderStatus(h.deps);
    expect(status.lastRun).toMatchObject({ ok: false });
    expect(status.pendingRun).not.toBeNull();
    await hive.restart();
    expect(await runOnce(h.deps)).toMatchObject({ ok: true, events: 600 });
    const first = [...syntheticEvents(800, { seed: 31, startMs: T0, spanMs: 2 * 3_600_000 })];
    expect(await h.countsByHour()).toEqual(expectedCounts([...first, ...events]));
    const row = report(
      compare(
        'HiveServer2 SIGKILLed as registration starts (events produced to Kafka)',
        ids([...first, ...events]),
        await counts(),
      ),
    );
    expect(row).toMatchObject({ lost: 0, duplicated: 0 });
  }, 300_000);
});
