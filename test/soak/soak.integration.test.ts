/**
 * The soak, shortened to 3 minutes of traffic: the real one-machine process under
 * steady load with its loader on a 15 s schedule and a dashboard refreshing.
 * It passes when the soak's own verdict does: every acknowledged event in the
 * warehouse exactly once, no 5xx, memory and descriptors flat (soak.ts says
 * how that is judged). `npm run soak` runs the same for 5 minutes or longer.
 *
 * Why not shorter: the process's RSS climbs for its first one to two minutes
 * while V8 and DuckDB (a fresh instance per load, the catalog's caches) grow
 * to their working set, and the allocator hands the memory back later (one
 * run: 228 MB at 10 s, 423 MB at 121 s, 208 MB at 141 s). With 75 s of
 * traffic the last third fell on that climb and healthy runs failed the
 * flat-RSS check (+31 % and +36 % in two CI runs); with three minutes the
 * warm-up third covers it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, runSoak } from './soak.ts';

const TRAFFIC_MS = 180_000;

describe('soak (3 min)', () => {
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
  }, 420_000);
});
