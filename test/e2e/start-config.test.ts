/**
 * The one-machine configuration as a user meets it: the example files are
 * valid, the environment overrides the file, flags override both, and a
 * mistake stops start-up with a message naming the field. Resolved
 * in-process through the loader `npm start` uses (deploy/one-machine/config.ts);
 * two real `node start.ts --check` runs prove the exit code and the printed,
 * secrets-hidden output.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkView, loadOneMachineConfig } from '../../deploy/one-machine/config.ts';
import { ConfigError } from '../../shared/config/config-error.ts';
import { hideSecrets, keyFingerprint } from '../../shared/secret-display.ts';
import { START_SCRIPT } from '../demo/one-machine.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment without anything that would change the answer. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(BEACON_|EDGE_|LOADER_|INSIGHTS_|KAFKA_|S3_|HIVE_|LOG_LEVEL)/.test(k),
    ),
  );
  return { ...env, ...extra };
}

/** What `node start.ts <args> --check` prints, resolved in-process (the example files are relative to the root). */
async function check(args: string[], env: Record<string, string> = {}) {
  const flags: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i] ?? '', args[i + 1] ?? ''];
    const key = name.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    flags[key] = key.endsWith('Port') ? Number(value) : key === 'config' ? resolve(ROOT, value) : value;
  }
  const config = loadOneMachineConfig(flags, cleanEnv(env));
  return JSON.parse(JSON.stringify(checkView(config), hideSecrets)) as Record<
    string,
    Record<string, unknown>
  >;
}

async function failure(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [START_SCRIPT, ...args, '--check'], { cwd: ROOT, env: cleanEnv() });
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error('expected start.ts to refuse the configuration');
}

describe('start.ts configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'b2h-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs on embedded defaults with no file at all', async () => {
    const config = await check([]);
    expect(config.bus).toMatchObject({ kind: 'local', fsync: 'always' });
    expect(config.store).toEqual({ kind: 'dir' });
    expect(config.catalog).toEqual({ kind: 'duckdb' });
    expect(config.loader).toMatchObject({ cron: '* * * * *' });
    expect(config.edge).toMatchObject({ port: 8080 });
  });

  it('accepts both example files', async () => {
    const local = await check(['--config', 'beacon.config.example.json']);
    expect(local.bus).toMatchObject({ kind: 'local' });
    const prod = await check(['--config', 'prod.example.json']);
    expect(prod.bus).toMatchObject({ kind: 'kafka', brokers: ['127.0.0.1:19092'] });
    expect(prod.store).toMatchObject({ kind: 's3', bucket: 'warehouse', secretAccessKey: '***' });
    expect(prod.catalog).toMatchObject({ kind: 'hive', port: 19100, auth: 'NOSASL' });
  });

  it('takes the environment over the file, and flags over both', async () => {
    const config = await check(['--config', 'beacon.config.example.json', '--edge-port', '9001'], {
      BEACON_EDGE_PORT: '9000',
      BEACON_INSIGHTS_PORT: '9003',
      BEACON_BUS: 'kafka',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      BEACON_STORE: 's3',
      S3_BUCKET: 'b',
      S3_ENDPOINT: 'http://127.0.0.1:19000',
      BEACON_CATALOG: 'hive',
      HIVE_HOST: 'h',
      HIVE_PORT: '10000',
    });
    expect(config.edge).toMatchObject({ port: 9001 });
    expect(config.insights).toMatchObject({ port: 9003 });
    // The file's local-log settings do not leak into the Kafka section the environment switched to.
    expect(config.bus).toEqual({
      kind: 'kafka',
      brokers: ['k1:9092', 'k2:9092'],
      clientId: 'beacon-to-hive',
      topic: 'events',
      partitions: 6,
    });
    expect(config.store).toMatchObject({ kind: 's3', bucket: 'b', forcePathStyle: true });
    expect(config.catalog).toMatchObject({ kind: 'hive', host: 'h', port: 10000 });
  });

  it('fills the adapter the file chose from the stack variables, without switching', async () => {
    const config = await check(['--config', 'prod.example.json'], { KAFKA_BROKERS: '10.0.0.1:9092' });
    expect(config.bus).toMatchObject({ kind: 'kafka', brokers: ['10.0.0.1:9092'] });
    const local = await check([], { KAFKA_BROKERS: '10.0.0.1:9092' });
    expect(local.bus).toMatchObject({ kind: 'local' });
  });

  it('refuses a bad file with exit code 2, naming each field', { timeout: 30_000 }, async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ bus: { kind: 'kafka' }, edge: { prot: 1 }, loader: { cron: 'every minute' } }),
    );
    const { code, stderr } = await failure(['--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('bus.brokers');
    expect(stderr).toContain('Unrecognized key: "prot"');
    expect(stderr).toContain('loader.cron');
    expect(stderr).not.toContain('    at '); // a message, not a stack trace
  });

  it('says which file it cannot read', async () => {
    // The same ConfigError as a bad file, which the real run above shows exits with code 2.
    const missing = check(['--config', join(dir, 'missing.json')]);
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow('missing.json');
  });

  it("--check shows write and read keys only as fingerprints, and the demo project's origins", async () => {
    const file = join(dir, 'keys.json');
    const writeKey = 'wk_site_Zx8QpL2mN4vB7cR1tY6u';
    const readKey = 'rk_site_h3J9kL0pQ2wE5rT8yU1iO4aS';
    await writeFile(
      file,
      JSON.stringify({
        projects: [{ id: 'site', writeKeys: [writeKey], readKeys: [readKey] }],
        edge: { relaySecret: 'relay-secret-0123456789' },
        demoProject: { allowedOrigins: ['http://localhost:3000'] },
      }),
    );
    const { stdout } = await run(
      process.execPath,
      [START_SCRIPT, '--config', file, '--edge-port', '9001', '--insights-port', '9003', '--check'],
      { cwd: ROOT, env: cleanEnv() },
    );
    for (const secret of [writeKey, readKey, 'relay-secret-0123456789']) expect(stdout).not.toContain(secret);
    const config = JSON.parse(stdout) as {
      projects: { writeKeys: string[]; readKeys: string[] }[];
      demoProject: { allowedOrigins: string[] };
    };
    expect(config.projects[0]?.writeKeys).toEqual([expect.stringMatching(/^wk_site_…[0-9a-f]{8}$/)]);
    expect(config.projects[0]?.readKeys).toEqual([expect.stringMatching(/^rk_site_…[0-9a-f]{8}$/)]);
    expect(config.demoProject.allowedOrigins).toEqual([
      'http://127.0.0.1:9001',
      'http://localhost:9001',
      'http://127.0.0.1:9003',
      'http://localhost:9003',
      'http://localhost:3000',
    ]);
  }, 30_000);
});

// Each deployable started alone has the same `--check`; CI runs them from a production install (.ci/run).
// One child process per test, each loading its deployable: seconds on a loaded 2-core machine.
describe('each deployable alone: --check', { timeout: 20_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'b2h-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const checkOf = async (script: string, args: string[], env: Record<string, string> = {}) => {
    const { stdout } = await run(process.execPath, [script, ...args, '--check'], {
      cwd: ROOT,
      env: cleanEnv(env),
    });
    return { stdout, config: JSON.parse(stdout) as Record<string, unknown> };
  };

  it('edge: prints its config from the environment, keys and secrets hidden', async () => {
    const writeKey = 'wk_acme_0123456789abcdef';
    const { stdout, config } = await checkOf('edge/node.ts', [], {
      KAFKA_BROKERS: 'k1:9092',
      EDGE_KAFKA_CLIENT: 'platformatic',
      EDGE_IP_SALT: 'salt-salt-salt-salt',
      EDGE_SPOOL_DIR: join(dir, 'spool'),
      EDGE_PROJECTS: JSON.stringify([{ id: 'acme', writeKeys: [writeKey] }]),
    });
    expect(config).toMatchObject({
      ipSalt: '***',
      kafka: { brokers: ['k1:9092'], client: 'platformatic' },
      projects: [{ id: 'acme', writeKeys: [keyFingerprint(writeKey)] }],
    });
    expect(stdout).not.toContain(writeKey);
  });

  it('edge: refuses a config without brokers, naming the field', async () => {
    const refused = await run(process.execPath, ['edge/node.ts', '--check'], {
      cwd: ROOT,
      env: cleanEnv({ EDGE_IP_SALT: 'salt-salt-salt-salt', EDGE_SPOOL_DIR: dir, EDGE_PROJECTS: '[]' }),
    }).catch((error: unknown) => error as { code: number; stderr: string });
    // Exit code 2, as every entry refuses a configuration (shared/config/config-error.ts); it was 1.
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain('kafka.brokers');
  });

  it('loader: prints its defaults, and the environment over them, credentials hidden', async () => {
    const { config } = await checkOf('loader/cli.ts', [], {
      LOADER_STORE: 's3',
      S3_BUCKET: 'b',
      S3_ACCESS_KEY: 'beacon',
      S3_SECRET_KEY: 'beacon-secret',
    });
    expect(config).toMatchObject({
      bus: { kind: 'local' },
      store: { kind: 's3', bucket: 'b', secretAccessKey: '***' },
      catalog: { kind: 'duckdb' },
    });
  });

  it('insights: prints its file, read keys hidden', async () => {
    const file = join(dir, 'insights.json');
    const readKey = 'rk_acme_0123456789abcdef';
    await writeFile(
      file,
      JSON.stringify({
        projects: [{ id: 'acme', readKeys: [readKey] }],
        engine: { kind: 'hive', host: 'hive.internal', port: 10000 },
      }),
    );
    const { stdout, config } = await checkOf('insights/node.ts', ['--config', file]);
    expect(config).toMatchObject({
      engine: { kind: 'hive', auth: 'NONE' },
      projects: [{ readKeys: [keyFingerprint(readKey)] }],
    });
    expect(stdout).not.toContain(readKey);
  });
});
