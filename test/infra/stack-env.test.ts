import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStackEnv, type StackEnv, writeStackEnv } from './stack-env.ts';
import { stackPorts } from './stack-layout.ts';

const env: StackEnv = {
  KAFKA_BROKERS: '127.0.0.1:19092',
  S3_ENDPOINT: 'http://127.0.0.1:19000',
  S3_REGION: 'us-east-1',
  S3_ACCESS_KEY: 'beacon',
  S3_SECRET_KEY: 'beacon-secret',
  S3_BUCKET: 'warehouse',
  HIVE_HOST: '127.0.0.1',
  HIVE_PORT: 19100,
  HIVE_AUTH: 'NOSASL',
};

describe('stack.env', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads back what was written, with typed values', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stack-env-'));
    writeStackEnv(env, join(dir, 'stack.env'));
    expect(readStackEnv(join(dir, 'stack.env'))).toEqual(env);
  });

  it('says how to start the stack when it is not up', () => {
    expect(() => readStackEnv('/nonexistent/stack.env')).toThrow(/npm run stack -- up/);
  });
});

describe('stack ports', () => {
  it('defaults, and follows the environment', () => {
    expect(stackPorts({})).toEqual({ kafka: 19092, kafkaController: 19093, s3: 19000, hive: 19100 });
    expect(stackPorts({ KAFKA_PORT: '21092', S3_PORT: '21000', HIVE_PORT: '21100' })).toEqual({
      kafka: 21092,
      kafkaController: 21093,
      s3: 21000,
      hive: 21100,
    });
  });

  it('refuses ports from the range Linux hands to outgoing connections', () => {
    expect(() => stackPorts({ KAFKA_PORT: '39192' })).toThrow(/KAFKA_PORT/);
  });
});
