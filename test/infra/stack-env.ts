/**
 * @module The shared stack's endpoints, as `npm run stack -- up` (or the integration tests'
 * global setup) wrote them to $BEACON_CACHE/stack/stack.env once every server answered.
 * The keys are the file's own (KEY=VALUE lines), so a shell can `source` the same file.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { S3Endpoint } from './s3proxy.ts';
import { stackEnvFile } from './stack-layout.ts';

const stackEnvSchema = z.object({
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z.string().min(1),
  S3_ENDPOINT: z.url(),
  S3_REGION: z.string().min(1),
  S3_ACCESS_KEY: z.string().min(1),
  S3_SECRET_KEY: z.string().min(1),
  S3_BUCKET: z.string().min(1),
  HIVE_HOST: z.string().min(1),
  HIVE_PORT: z.coerce.number().int().positive(),
  HIVE_AUTH: z.enum(['NOSASL', 'NONE']),
});

export type StackEnv = z.infer<typeof stackEnvSchema>;

function parseStackEnv(text: string): StackEnv {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as const;
    });
  return stackEnvSchema.parse(Object.fromEntries(entries));
}

/** The running shared stack's endpoints; throws, saying how to start it, when it is not up. */
export function readStackEnv(path = stackEnvFile()): StackEnv {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(
      `The test stack is not up (${path} does not exist). Start it with \`npm run stack -- up\`, ` +
        'or run the tests with `npm test` / `npm run test:integration`, which start it themselves.',
    );
  }
  return parseStackEnv(text);
}

/** The shared stack's S3 server, as test/infra's S3 helpers take it. */
export function stackS3Endpoint(env: StackEnv): S3Endpoint {
  return {
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    accessKey: env.S3_ACCESS_KEY,
    secretKey: env.S3_SECRET_KEY,
  };
}

/** Written atomically: a reader never sees half a file. */
export function writeStackEnv(env: StackEnv, path = stackEnvFile()): void {
  const lines = Object.entries(stackEnvSchema.parse(env)).map(([key, value]) => `${key}=${value}`);
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(
    partial,
    `# Written by test/infra/stack.ts: the shared test stack's endpoints.\n${lines.join('\n')}\n`,
  );
  renameSync(partial, path);
}

/** A pipeline config's `store` section on the shared stack's bucket (under `prefix`, when given). */
export function stackStoreConfig(env: StackEnv, prefix?: string) {
  return {
    kind: 's3',
    bucket: env.S3_BUCKET,
    ...(prefix === undefined ? {} : { prefix }),
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    accessKeyId: env.S3_ACCESS_KEY,
    secretAccessKey: env.S3_SECRET_KEY,
  } as const;
}

/** A pipeline config's `catalog` section on the shared stack's HiveServer2. */
export function stackCatalogConfig(env: StackEnv) {
  return { kind: 'hive', host: env.HIVE_HOST, port: env.HIVE_PORT, auth: env.HIVE_AUTH } as const;
}
