/**
 * Fault matrix: the loader (a real `loader/cli.ts` process on Kafka, s3proxy
 * and HiveServer2) SIGKILLed at each step of a load, right after its
 * commit, in the middle of a replay's swap, during a compaction (after its
 * upload and in the middle of its swap), and at seeded random instants.
 * After each kill the next run settles what it left; the warehouse, read
 * through HiveServer2, must hold every event the edge acknowledged exactly
 * once.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../loader/loader-deps.ts';
import { seededRandom } from '../demo/seeded-random.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import {
  Acks,
  compare,
  openPipeline,
  type Pipeline,
  postBatch,
  report,
  trackEvents,
} from './pipeline-fixture.ts';

printServerLogsOnFailure(['kafka', 's3', 'hive']);

describe('fault matrix: the loader killed', () => {
  let p: Pipeline;
  let edge: ChildProcess;
  const acks = new Acks();

  beforeAll(async () => {
    p = await openPipeline(readStackEnv(), { label: 'loader-kill' });
    edge = await p.startEdge();
  }, 120_000);
  afterAll(async () => {
    edge?.kill('SIGKILL');
    await p?.close();
  });

  async function ingest(label: string, n: number): Promise<void> {
    for (let i = 0; i < n; i += 50) {
      expect(await postBatch(p.edgeUrl, trackEvents(label, 50), acks)).toBe('200');
    }
  }

  async function cleanRunAndCompare(scenario: string): Promise<void> {
    const clean = await p.loader(['run']);
    expect(clean.code, clean.log).toBe(0);
    const row = report(compare(scenario, acks.acked, await p.warehouseCounts()));
    expect(row).toMatchObject({ lost: 0, duplicated: 0 });
  }

  // The points inside a load (a replay's swap and compaction have their own scenarios).
  for (const point of CRASH_POINTS.filter((c) => c !== 'mid-swap' && !c.includes('compact'))) {
    it(`loader SIGKILLed ${point}: the next run repairs it`, async () => {
      await ingest(point, 200);
      const crashed = await p.loader(['run'], { env: { LOADER_CRASH_AT: point } });
      expect(crashed.signal, crashed.log).toBe('SIGKILL');
      await cleanRunAndCompare(`loader SIGKILLed ${point}`);
    }, 180_000);
  }

  it('a replay SIGKILLed in the middle of its swap is finished by the next run', async () => {
    await ingest('replay', 200);
    expect((await p.loader(['run'])).code).toBe(0);
    const hour = (h: number) => new Date(h).toISOString().slice(0, 13);
    const now = Date.now();
    const crashed = await p.loader(['replay', '--from', hour(now - 3_600_000), '--to', hour(now)], {
      env: { LOADER_CRASH_AT: 'mid-swap' },
    });
    expect(crashed.signal, crashed.log).toBe('SIGKILL');
    const status = await p.loader(['status', '--json']);
    expect(status.log).toContain('"pendingCommand": "replay (swapping)"');
    await cleanRunAndCompare('loader SIGKILLed mid-swap of a replay');
  }, 180_000);

  for (const point of ['after-compact-write', 'mid-compact-swap'] as const) {
    it(`a compaction SIGKILLed ${point} is settled by the next run`, async () => {
      // Two loads: each writes one file per (hour, bus partition), so the hour has several files.
      for (const half of ['a', 'b']) {
        await ingest(`${point}-${half}`, 100);
        expect((await p.loader(['run'])).code).toBe(0);
      }
      const hour = (h: number) => new Date(h).toISOString().slice(0, 13);
      const now = Date.now();
      // The edge stamps events now, so the hour is still open: name it to compact it anyway.
      const crashed = await p.loader(['compact', '--from', hour(now - 3_600_000), '--to', hour(now)], {
        env: { LOADER_CRASH_AT: point },
      });
      expect(crashed.signal, crashed.log).toBe('SIGKILL');
      // The log may hold a Node warning on stderr before the JSON: look for the field itself.
      const status = await p.loader(['status', '--json']);
      expect(status.log).toContain(
        `"pendingCommand": "${point === 'mid-compact-swap' ? 'compact (swapping)' : 'compact (uploading)'}"`,
      );
      await cleanRunAndCompare(`loader SIGKILLed ${point} of a compaction`);
    }, 180_000);
  }

  it('loader SIGKILLed at seeded random instants, four times in a row', async () => {
    const rand = seededRandom(1207);
    const kills: string[] = [];
    for (let round = 0; round < 4; round++) {
      await ingest(`random${round}`, 150);
      // Kill once it has logged its `delayAt`-th line: somewhere between plan and commit.
      const delayAt = rand.int(1, 8);
      let lines = 0;
      const run = await p.loader(['run'], {
        onLine: (_line, child) => {
          if (++lines === delayAt) child.kill('SIGKILL');
        },
      });
      kills.push(run.signal === 'SIGKILL' ? `killed after line ${delayAt}` : `finished (${run.code})`);
    }
    await cleanRunAndCompare(`loader SIGKILLed at random log lines (${kills.join('; ')})`);
  }, 300_000);
});
