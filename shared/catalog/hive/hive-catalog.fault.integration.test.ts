/**
 * A HiveServer2 that dies under the catalog: its own private instance (never
 * the shared stack's), killed with SIGKILL and started again. The catalog must
 * report the outage as a retriable CatalogError and, once the server is back,
 * answer again with the same instance (its broken session replaced).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/infra/free-port.ts';
import { type HiveHandle, startHive } from '../../../test/infra/hive.ts';
import { readStackEnv, stackS3Endpoint } from '../../../test/infra/stack-env.ts';
import { HiveCatalog } from './hive-catalog.ts';

describe('HiveCatalog when HiveServer2 dies', () => {
  let dir: string;
  let hive: HiveHandle;
  let catalog: HiveCatalog;

  beforeAll(async () => {
    const env = readStackEnv();
    dir = await mkdtemp(join(tmpdir(), 'b2h-hive-fault-'));
    hive = await startHive({
      port: await freePort(),
      dataDir: join(dir, 'data'),
      logDir: join(dir, 'logs'),
      s3: stackS3Endpoint(env),
    });
    catalog = new HiveCatalog({
      host: hive.host,
      port: hive.port,
      auth: hive.auth,
      poolSize: 1,
      retries: 0,
      connectTimeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await catalog?.close();
    await hive?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails retriably while the server is down, then answers on a new session', async () => {
    expect(await catalog.query('SELECT ? AS n', [1])).toEqual([{ n: 1 }]);

    await hive.kill();
    await expect(catalog.query('SELECT ? AS n', [2])).rejects.toMatchObject({
      retriable: true,
      code: 'unavailable',
    });

    await hive.restart();
    expect(await catalog.query('SELECT ? AS n', [3])).toEqual([{ n: 3 }]);
  });
});
