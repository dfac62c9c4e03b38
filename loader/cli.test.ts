/** The `loader` command as a real child process on the embedded adapters. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceToLocalBus, runLoaderCli, writeEmbeddedConfig } from './fixtures/embedded-cli.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';

describe('loader CLI', () => {
  let dir: string;
  let config: string;
  const cli = (...args: string[]) => runLoaderCli(config, args);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-cli-'));
    config = await writeEmbeddedConfig(dir);
    await produceToLocalBus(
      dir,
      [...syntheticEvents(500, { seed: 3, startMs: Date.UTC(2026, 10, 25, 9), spanMs: 7_200_000 })],
      [{ key: null, value: 'not json' }],
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs, ends with one summary line and then the compaction of the closed hours, and reports status', () => {
    const run = cli('run');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; summary?: unknown });
    expect(lines.find((l) => l.msg.startsWith('run ok'))?.msg).toMatch(
      /^run ok: 500 events, 0 duplicates dropped, 1 malformed, \d+ files, [\d.]+ MB, [\d.]+ s/,
    );
    // Both hours (2026-11-25T09 and T10) are long closed; each had one file per bus partition
    // (a `compacted hour` line each, then the pass's summary).
    expect(lines.filter((l) => l.msg === 'compacted hour')).toHaveLength(2);
    expect(lines.at(-1)?.msg).toMatch(/^compaction ok: 2 hours, 4 files → 2, 500 rows, /);
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
    for (const command of ['run', 'schedule', 'replay', 'compact', 'status']) {
      const help = cli(command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: loader ${command}`);
    }
    const bad = cli('replay', '--from', 'yesterday', '--to', '2026-11-25T10');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('is not an hour');
  }, 60_000);

  it('refuses replay and import while scaled out, with exit code 2, before reaching the bus', () => {
    // Scale-out needs the Kafka bus; a port nothing listens on shows that nothing is asked of it.
    const scaled = { LOADER_SCALE_OUT: '1', LOADER_BUS: 'kafka', KAFKA_BROKERS: '127.0.0.1:1' };
    const replay = runLoaderCli(
      config,
      ['replay', '--from', '2026-11-25T09', '--to', '2026-11-25T09'],
      scaled,
    );
    expect(replay.status, replay.stderr).toBe(2);
    expect(replay.stderr).toContain('replay does not run scaled out');
    const load = runLoaderCli(config, ['import', dir], scaled);
    expect(load.status, load.stderr).toBe(2);
    expect(load.stderr).toContain('import does not run scaled out');
  }, 60_000);
});
