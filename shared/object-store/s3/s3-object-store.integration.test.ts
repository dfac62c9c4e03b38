import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { readStackEnv } from '../../../test/infra/stack-env.ts';
import { StoreError } from '../../errors.ts';
import { runObjectStoreContract } from '../object-store.contract.ts';
import { S3ObjectStore } from './s3-object-store.ts';

function storeUnder(prefix: string, overrides: { endpoint?: string } = {}): S3ObjectStore {
  const env = readStackEnv();
  return new S3ObjectStore({
    bucket: env.S3_BUCKET,
    prefix,
    endpoint: overrides.endpoint ?? env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
    // Small parts so the contract's 11 MiB stream goes up in several parts.
    partSize: 5 * 1024 * 1024,
  });
}

runObjectStoreContract('s3 (s3proxy)', async () => {
  const store = storeUnder(`it-object-store-${randomBytes(6).toString('hex')}`);
  await store.ensureBucket();
  return {
    store,
    cleanup: async () => {
      await store.deletePrefix('');
      store.close();
    },
  };
});

describe('S3ObjectStore', () => {
  it('locates keys by bucket and whole key, prefix included', () => {
    const store = storeUnder('base/dir');
    expect(store.location('events/dt=2026-11-25')).toEqual({
      kind: 's3',
      bucket: store.bucket,
      key: 'base/dir/events/dt=2026-11-25',
    });
    expect(store.location('')).toEqual({ kind: 's3', bucket: store.bucket, key: 'base/dir/' });
    store.close();
  });

  it('keeps stores with different prefixes apart', async () => {
    const run = randomBytes(6).toString('hex');
    const a = storeUnder(`it-prefix-${run}/a`);
    const ab = storeUnder(`it-prefix-${run}/ab`);
    try {
      await a.put('k', 'in a');
      await ab.put('k', 'in ab');
      const listed: string[] = [];
      for await (const o of a.list('')) listed.push(o.key);
      expect(listed).toEqual(['k']);
      expect(Buffer.from((await ab.get('k'))!).toString()).toBe('in ab');
    } finally {
      await a.deletePrefix('');
      await ab.deletePrefix('');
      a.close();
      ab.close();
    }
  });

  it("skips Hadoop S3A folder markers (keys ending in '/') when listing, and deletes them under a prefix", async () => {
    const env = readStackEnv();
    const base = `it-markers-${randomBytes(6).toString('hex')}`;
    const store = storeUnder(base);
    const raw = new S3Client({
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
    });
    const keysInBucket = async () =>
      (await raw.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: `${base}/` }))).Contents?.map(
        (o) => o.Key,
      ) ?? [];
    try {
      await store.put('events/dt=2026-11-25/hour=09/part.parquet', 'rows');
      // What S3A writes for `mkdir` (Hive's CREATE TABLE … LOCATION, INSERT): empty objects named like folders.
      for (const marker of [`${base}/`, `${base}/events/`, `${base}/events/dt=2026-11-25/hour=10/`])
        await raw.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: marker, Body: new Uint8Array(0) }));
      const listed: string[] = [];
      for await (const o of store.list('events/')) listed.push(o.key);
      expect(listed).toEqual(['events/dt=2026-11-25/hour=09/part.parquet']);

      expect(await store.deletePrefix('events/')).toBe(3);
      expect(await keysInBucket()).toEqual([`${base}/`]);
      await store.deletePrefix('');
      expect(await keysInBucket()).toEqual([]);
    } finally {
      await store.deletePrefix('').catch(() => undefined);
      store.close();
      raw.destroy();
    }
  });

  it('reports an unreachable server as a retriable StoreError', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const store = storeUnder('unreachable', { endpoint: 'http://127.0.0.1:1' });
    try {
      const error = await store.get('x').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).retriable).toBe(true);
      expect((error as StoreError).cause).toBeDefined();
    } finally {
      store.close();
    }
  });
});
