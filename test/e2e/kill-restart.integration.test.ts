/**
 * The one-machine process as a real child process, crashed the hard way:
 * SIGKILL while clients are posting (requests in flight, the bus mid-append),
 * then SIGKILL inside a load (files uploaded and partitions registered, offsets
 * not committed). After a restart and a load, every event the edge
 * acknowledged (a 2xx names it) is in the warehouse exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type OneMachineProcess, type RunInfo, requestLoad } from '../demo/one-machine.ts';
import { seededRandom } from '../demo/seeded-random.ts';
import {
  askInsights,
  logTail,
  removeDir,
  startOnTestPorts,
  tempDataDir,
  warehouseMessageCounts,
} from './one-machine-fixture.ts';

const WORKERS = 6;
const BATCH = 25;

interface Ingest {
  acked: Set<string>;
  /** Requests that got no answer or an error: their events may or may not be in (at least once). */
  failed: number;
}

/** Clients posting batches until told to stop or the edge goes away; records what was acknowledged. */
async function ingest(run: RunInfo, round: string, seed: number, into: Ingest, stop: () => boolean) {
  const rand = seededRandom(seed);
  const auth = `Basic ${Buffer.from(`${run.project.writeKey}:`).toString('base64')}`;
  const worker = async (w: number) => {
    for (let i = 0; !stop(); i++) {
      const batch = Array.from({ length: BATCH }, (_, j) => ({
        type: 'track',
        event: 'Crash Test',
        messageId: `${round}-${w}-${i}-${j}`,
        anonymousId: `visitor-${rand.int(1, 300)}`,
        properties: { round, n: rand.int(1, 1000) },
      }));
      try {
        const response = await fetch(`${run.edgeUrl}/v1/batch`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ batch }),
        });
        const body = (await response.json()) as { rejected?: { index: number }[] };
        if (!response.ok) {
          into.failed++;
          continue;
        }
        const refused = new Set((body.rejected ?? []).map((r) => r.index));
        batch.forEach((e, j) => {
          if (!refused.has(j)) into.acked.add(e.messageId);
        });
      } catch {
        into.failed++;
        return; // connection refused or reset: the process is gone
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
}

describe('one machine: kill -9 and restart', () => {
  let dataDir: string | undefined;
  let proc: OneMachineProcess | undefined;

  afterAll(async () => {
    await proc?.kill();
    if (dataDir) await removeDir(dataDir);
  });

  it('loads every acknowledged event exactly once', async () => {
    dataDir = await tempDataDir('kill');
    const seen: Ingest = { acked: new Set(), failed: 0 };

    // 1. SIGKILL in the middle of ingest: the clients keep posting while it dies.
    const first = await startOnTestPorts(dataDir);
    proc = first;
    const ports = first.ports;
    let killed = false;
    const clients = ingest(first.run, 'r1', 1, seen, () => killed && seen.failed >= WORKERS);
    while (seen.acked.size < 3000 && seen.failed < 50) await sleep(10);
    await first.kill();
    killed = true;
    await clients;
    const afterFirst = seen.acked.size;
    // The loop above also ends on 50 failures: an edge that refused everything must not pass as "nothing lost".
    expect(afterFirst, 'events acknowledged before the kill').toBeGreaterThanOrEqual(3000);

    // 2. Restarted with the loader told to SIGKILL itself between registering and committing:
    //    its start-up load of round 1 dies there, with round 2's clients posting.
    let dying = false;
    proc = await startOnTestPorts(dataDir, { ports, env: { LOADER_CRASH_AT: 'after-register' } });
    const second = proc;
    const clients2 = ingest(second.run, 'r2', 2, seen, () => dying);
    await second.exited;
    dying = true;
    await clients2;
    // It died by the loader's own SIGKILL (LOADER_CRASH_AT), not by an error of its own.
    expect(second.child.signalCode, await logTail(second)).toBe('SIGKILL');

    // 3. Restarted normally: more events, a load, a clean stop.
    proc = await startOnTestPorts(dataDir, { ports });
    const third = proc;
    let enough = false;
    const clients3 = ingest(third.run, 'r3', 3, seen, () => enough);
    while (seen.acked.size < afterFirst + 1000 && seen.failed < 50) await sleep(10);
    enough = true;
    await clients3;
    expect(seen.acked.size - afterFirst, 'events acknowledged after the restarts').toBeGreaterThanOrEqual(
      1000,
    );
    const load = await requestLoad(third.run);
    expect(load.ok).toBe(true);
    const now = new Date();
    const summary = await askInsights<{ current: { events: number } }>(third.run, 'summary', {
      from: `${new Date(now.getTime() - 2 * 3_600_000).toISOString().slice(0, 13)}:00Z`,
      to: `${new Date(now.getTime() + 3_600_000).toISOString().slice(0, 13)}:00Z`,
      // Every acknowledged event, whatever its user agent (Node's own is a bot's).
      bots: 'include',
    });
    expect(await third.stop(), await logTail(third)).toBe(0);

    const counts = await warehouseMessageCounts(dataDir);
    const missing = [...seen.acked].filter((id) => !counts.has(id));
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    // The API agrees with the rows: each stored event counted once.
    expect(summary.current.events).toBe(counts.size);
  });
}, 600_000);
