/**
 * The soak, shortened to 75 s of traffic: the real one-machine process under
 * steady load with its loader on a 15 s schedule and a dashboard refreshing.
 * It passes when the soak's own verdict does: every acknowledged event in the
 * warehouse exactly once, no 5xx, memory and descriptors flat (soak.ts says
 * how that is judged). `npm run soak` runs the same for 5 minutes or longer.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, runSoak } from './soak.ts';

const TRAFFIC_MS = 75_000;

describe('soak (75 s)', () => {
  it('loads every acknowledged event exactly once with flat resources', async () => {
    const lines: string[] = [];
    const { verdict, summary, record } = await runSoak({
      ...DEFAULTS,
      durationMs: TRAFFIC_MS,
      log: (line) => {
        lines.push(line);
        process.stderr.write(`${line}\n`);
      },
    });
    expect(
      verdict.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
      summary,
    ).toEqual([]);
    expect(record.ingest.acked.size).toBeGreaterThan((TRAFFIC_MS / 1000) * DEFAULTS.rate * 0.9);
    expect(verdict.ok).toBe(true);
    // Progress lines came every ~10 s.
    expect(lines.filter((l) => /^\[soak\] \d+s {2}acked/.test(l)).length).toBeGreaterThanOrEqual(5);
  }, 240_000);
});
