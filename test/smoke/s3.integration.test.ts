/**
 * Smoke test: the shared stack's S3 server (s3proxy) answers @aws-sdk/client-s3 and
 * @aws-sdk/lib-storage as the product uses them: put, list, get, and a multipart upload.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteTestPrefix, testS3Client } from '../infra/s3proxy.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv, stackS3Endpoint } from '../infra/stack-env.ts';

/** Deterministic bytes (a counter run through sha256), so a failure replays exactly. */
function seededBytes(seed: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < size; i++)
    blocks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, size);
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('S3 smoke', () => {
  printServerLogsOnFailure(['s3']);
  const env = readStackEnv();
  const s3 = testS3Client(stackS3Endpoint(env));
  const Bucket = env.S3_BUCKET;
  const prefix = `smoke-s3/${randomUUID()}/`;

  afterAll(async () => {
    await deleteTestPrefix(s3, Bucket, prefix);
    s3.destroy();
  });

  it('puts, lists and gets small objects', async () => {
    const names = ['a.json', 'b.json', 'c/d.json'];
    for (const name of names) {
      await s3.send(new PutObjectCommand({ Bucket, Key: prefix + name, Body: JSON.stringify({ name }) }));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(
      names.map((name) => prefix + name),
    );

    const got = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}c/d.json` }));
    expect(JSON.parse(await got.Body!.transformToString())).toEqual({ name: 'c/d.json' });
  });

  it('uploads a 12 MB object in parts and reads back the same bytes', async () => {
    const body = seededBytes('smoke-s3-multipart', 12 * 1024 * 1024);
    const Key = `${prefix}multipart.bin`;
    const parts: number[] = [];
    const upload = new Upload({ client: s3, params: { Bucket, Key, Body: body }, partSize: 5 * 1024 * 1024 });
    upload.on('httpUploadProgress', (progress) => {
      if (progress.part !== undefined) parts.push(progress.part);
    });
    await upload.done();
    expect(new Set(parts).size).toBe(3);

    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(body.length);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(body));
  });
});
