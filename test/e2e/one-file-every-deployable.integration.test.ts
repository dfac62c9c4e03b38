/**
 * One config file drives every deployable the same way: the edge, the loader
 * and insights, each run alone with `--config <pipeline file> --check`,
 * resolve the bus, store, catalog and tables `npm start --check` does for the
 * same file; `loader status` on it reads that file's adapters and data
 * directory, and only reads. Real child processes (the CLIs as an operator
 * runs them); an integration test because status on prod.example.json talks
 * to the shared stack's Kafka and S3.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Without the variables that would change what a file resolves to. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(BEACON_|EDGE_|LOADER_|INSIGHTS_|KAFKA_|S3_|HIVE_|LOG_LEVEL)/.test(k),
    ),
  );
}

async function cli(script: string, args: string[], cwd: string, timeout = 0) {
  return run(process.execPath, [join(ROOT, script), ...args], { cwd, env: cleanEnv(), timeout }).catch(
    (error: unknown) => error as { code: number; stdout: string; stderr: string },
  );
}

const ENTRIES = {
  start: 'start.ts',
  edge: 'edge/node.ts',
  loader: 'loader/cli.ts',
  insights: 'insights/node.ts',
};

describe.each(['prod.example.json', 'beacon.config.example.json'])('%s', (name) => {
  const file = join(ROOT, name);
  // Each file's dataDir is ./data: relative to a scratch directory, never the repository's own.
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'b2h-one-file-'));
  });
  afterAll(() => rm(cwd, { recursive: true, force: true }));

  it('--check: every deployable resolves the adapters npm start does', { timeout: 60_000 }, async () => {
    const checks = await Promise.all(
      Object.entries(ENTRIES).map(async ([entry, script]) => {
        const result = await cli(script, ['--config', file, '--check'], cwd);
        expect('code' in result ? result.stderr : '', `${entry} --check`).toBe('');
        return [entry, JSON.parse(result.stdout) as Record<string, unknown>] as const;
      }),
    );
    const [[, start], ...alone] = checks as [
      [string, Record<string, unknown>],
      ...[string, Record<string, unknown>][],
    ];
    for (const [entry, config] of alone) {
      for (const section of ['dataDir', 'bus', 'store', 'catalog', 'tables'])
        expect(config[section], `${entry}: ${section}`).toEqual(start[section]);
    }
    // Nothing was created by a check: no data directory, no local log.
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('loader status reads that file, and only reads', { timeout: 60_000 }, async () => {
    if (name === 'prod.example.json') {
      // The shared stack's Kafka has no `events` topic (tests use their own), so status says so, about
      // that Kafka: it read the file's bus, not a local fallback. (Its kafkajs client then keeps
      // retrying in the background and holds the process, hence the timeout: a known defect.)
      const status = await cli('loader/cli.ts', ['--config', file, 'status', '--json'], cwd, 30_000);
      const stderr = 'stderr' in status ? status.stderr : '';
      expect(stderr).toContain('Kafka: reading the watermarks of events');
      expect(stderr).not.toContain('Nothing was committed');
    } else {
      const status = await cli('loader/cli.ts', ['--config', file, 'status', '--json'], cwd);
      // The local log under this file's dataDir: none yet, said as such, and not created.
      expect(status).toMatchObject({ code: 2 });
      expect((status as { stderr: string }).stderr).toContain(join(cwd, 'data', 'bus'));
      expect((status as { stderr: string }).stderr).not.toContain('Nothing was committed');
    }
    expect(existsSync(join(cwd, 'data', 'bus'))).toBe(false);
  });
});
