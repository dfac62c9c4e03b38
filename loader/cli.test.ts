/** The `loader` command as a real child process on the embedded adapters. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import { eventKey } from '../shared/event.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';

describe('loader CLI', () => {
  let dir: string;
  let config: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['loader/cli.ts', '-c', config, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'info' },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-cli-'));
    config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        bus: { kind: 'local', dir: join(dir, 'bus'), fsync: 'never' },
        store: { kind: 'dir', root: join(dir, 'wh') },
        catalog: { kind: 'duckdb', workDir: join(dir, 'duck') },
        tempDir: join(dir, 'tmp'),
      }),
    );
    const bus = await openLocalLogBus({ dir: join(dir, 'bus'), fsync: 'never' });
    await bus.ensureTopic('events', 2);
    const events = [
      ...syntheticEvents(500, { seed: 3, startMs: Date.UTC(2026, 10, 25, 9), spanMs: 7_200_000 }),
    ];
    await bus.produce(
      'events',
      events.map((e) => ({
        key: eventKey(e),
        value: JSON.stringify(e),
        timestamp: Date.parse(e.receivedAt),
      })),
    );
    await bus.produce('events', [{ key: null, value: 'not json' }]);
    await bus.close();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs, ends with one summary line, and reports status', () => {
    const run = cli('run');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; summary?: unknown });
    expect(lines.at(-1)?.msg).toMatch(
      /^run ok: 500 events, 0 duplicates dropped, 1 malformed, \d+ files, [\d.]+ MB, [\d.]+ s/,
    );
    const status = cli('status', '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      lag: 0,
      lastHour: '2026-11-25T10',
      lock: null,
      lastRun: { ok: true },
    });
  }, 60_000);

  it('answers --help for every command and refuses a bad hour with exit code 2', () => {
    for (const command of ['run', 'schedule', 'replay', 'status']) {
      const help = cli(command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: loader ${command}`);
    }
    const bad = cli('replay', '--from', 'yesterday', '--to', '2026-11-25T10');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('is not an hour');
  }, 60_000);
});
