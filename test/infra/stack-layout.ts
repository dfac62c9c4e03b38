/**
 * @module Where the shared test stack lives and listens. Runtime state (data, logs, pid
 * files, stack.env) is under $BEACON_CACHE/stack/; ports come from KAFKA_PORT,
 * KAFKA_CONTROLLER_PORT, S3_PORT and HIVE_PORT, all below 32768: Linux hands out outgoing
 * ports from 32768 up, and a client's connection once held a broker's port there.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { cacheDir } from './cache-dir.ts';
import { hiveLogFiles } from './hive.ts';
import { kafkaLogFiles } from './kafka.ts';
import { s3proxyLogFiles } from './s3proxy.ts';

export const STACK_SERVERS = ['kafka', 's3', 'hive'] as const;
export type StackServer = (typeof STACK_SERVERS)[number];

/** The shared stack's S3 identity and bucket. */
export const STACK_S3 = {
  accessKey: 'beacon',
  secretKey: 'beacon-secret',
  bucket: 'warehouse',
  region: 'us-east-1',
} as const;

const port = z.coerce.number().int().min(1024).max(32767);
const portsSchema = z.object({
  KAFKA_PORT: port.default(19092),
  KAFKA_CONTROLLER_PORT: port.optional(),
  S3_PORT: port.default(19000),
  HIVE_PORT: port.default(19100),
});

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  s3: number;
  hive: number;
}

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const parsed = portsSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Bad stack port in the environment (each must be 1024-32767): ${z.prettifyError(parsed.error)}`,
    );
  }
  const ports = parsed.data;
  return {
    kafka: ports.KAFKA_PORT,
    kafkaController: ports.KAFKA_CONTROLLER_PORT ?? ports.KAFKA_PORT + 1,
    s3: ports.S3_PORT,
    hive: ports.HIVE_PORT,
  };
}

export function stackDir(cache = cacheDir()): string {
  return join(cache, 'stack');
}

export function stackEnvFile(cache = cacheDir()): string {
  return join(stackDir(cache), 'stack.env');
}

export function stackServerDirs(
  server: StackServer,
  cache = cacheDir(),
): { dataDir: string; logDir: string } {
  return { dataDir: join(stackDir(cache), server), logDir: join(stackDir(cache), 'logs', server) };
}

/** The log files of a shared-stack server, most useful first. */
export function stackLogFiles(server: StackServer, cache = cacheDir()): string[] {
  const { logDir } = stackServerDirs(server, cache);
  switch (server) {
    case 'kafka':
      return kafkaLogFiles(logDir);
    case 's3':
      return s3proxyLogFiles(logDir);
    case 'hive':
      return hiveLogFiles(logDir);
  }
}
