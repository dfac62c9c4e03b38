/**
 * Compaction on the real stack: Kafka, s3proxy and HiveServer2. Two closed
 * hours loaded over three runs; HiveServer2 counts the files behind each
 * hour (`INPUT__FILE__NAME`) and its rows before and after: one file per
 * hour after, the same rows, no duplicate, rollups unchanged. A late event
 * makes a second file, and the next pass folds it in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../../shared/event.ts';
import { printServerLogsOnFailure } from '../../test/infra/server-logs.ts';
import { readStackEnv } from '../../test/infra/stack-env.ts';
import { expectedCounts, type LoaderHarness, loaderHarness } from '../fixtures/loader-harness.ts';
import { cleanupRealHarness, openRealPorts, type RealPorts } from '../fixtures/real-ports.ts';
import { syntheticEvents } from '../fixtures/synthetic-events.ts';
import { runOnce } from '../run-once.ts';
import { compactHours } from './compact.ts';

printServerLogsOnFailure(['kafka', 's3', 'hive']);

// Kafka refuses timestamps far ahead of its clock, and retention works on them: hours a few before now.
const T0 = (Math.floor(Date.now() / 3_600_000) - 5) * 3_600_000;

describe('compaction on Kafka + S3 + HiveServer2', () => {
  let ports: RealPorts;
  let dir: string;
  let h: LoaderHarness;

  beforeAll(async () => {
    ports = await openRealPorts(readStackEnv());
    dir = await mkdtemp(join(tmpdir(), 'loader-compact-it-'));
    h = await loaderHarness(ports, { partitions: 3, settings: { tempDir: join(dir, 'tmp') } });
  });
  afterAll(async () => {
    if (h) await cleanupRealHarness(ports, h.deps.settings);
    await ports?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Per hour, through HiveServer2: data files behind it, rows, distinct message ids. */
  async function perHour(): Promise<Record<string, { files: number; rows: number; ids: number }>> {
    const rows = await h.query(
      `SELECT dt, hour, count(DISTINCT INPUT__FILE__NAME) AS files, count(*) AS n, count(DISTINCT message_id) AS ids
       FROM ${h.deps.settings.tables.events} GROUP BY dt, hour`,
    );
    return Object.fromEntries(
      rows.map((r) => [
        `${r.dt}T${r.hour}`,
        { files: Number(r.files), rows: Number(r.n), ids: Number(r.ids) },
      ]),
    );
  }

  it('rewrites each closed hour into one file with the same rows, counted through HiveServer2, and folds a late event in', async () => {
    const all: EnrichedEvent[] = [];
    for (let run = 0; run < 3; run++) {
      const batch = [...syntheticEvents(600, { seed: 700 + run, startMs: T0, spanMs: 2 * 3_600_000 })];
      all.push(...batch);
      await h.produce(batch);
      expect(await runOnce(h.deps)).toMatchObject({ ok: true, events: 600 });
    }
    const expected = expectedCounts(all);
    const before = await perHour();
    const [rollupBefore] = await h.query(
      `SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly}`,
    );

    const result = await compactHours(h.deps);
    const after = await perHour();
    for (const c of result.hours) {
      console.log(
        `[compaction] ${c.hour}: files ${before[c.hour]?.files} → ${after[c.hour]?.files} through HiveServer2, rows ${before[c.hour]?.rows} → ${after[c.hour]?.rows}, ${c.bytesBefore} → ${c.bytesAfter} bytes`,
      );
    }
    expect(Object.keys(after).sort()).toEqual(Object.keys(expected));
    for (const [hour, n] of Object.entries(expected)) {
      expect(before[hour]).toMatchObject({ rows: n, ids: n });
      expect(before[hour]?.files).toBeGreaterThan(3);
      expect(after[hour]).toEqual({ files: 1, rows: n, ids: n });
    }
    expect(result.hours.map((c) => [c.hour, c.filesBefore, c.filesAfter, c.rows])).toEqual(
      Object.entries(expected).map(([hour, n]) => [hour, before[hour]?.files, 1, n]),
    );
    const [rollupAfter] = await h.query(
      `SELECT sum(events) AS n FROM ${h.deps.settings.tables.eventsHourly}`,
    );
    expect(rollupAfter).toEqual(rollupBefore);
    expect(Number(rollupAfter?.n)).toBe(all.length);

    const first = Object.keys(expected)[0] as string;
    const late = {
      ...(all[0] as EnrichedEvent),
      messageId: 'late-after-compaction',
      receivedAt: new Date(T0 + 1000).toISOString(),
    };
    await h.produce([late]);
    expect(await runOnce(h.deps)).toMatchObject({ events: 1, files: 1, hours: [first] });
    expect((await perHour())[first]).toEqual({
      files: 2,
      rows: (expected[first] as number) + 1,
      ids: (expected[first] as number) + 1,
    });
    const again = await compactHours(h.deps);
    expect(again.hours.map((c) => [c.hour, c.filesBefore, c.filesAfter])).toEqual([[first, 2, 1]]);
    expect((await perHour())[first]).toEqual({
      files: 1,
      rows: (expected[first] as number) + 1,
      ids: (expected[first] as number) + 1,
    });
  }, 600_000);
});
