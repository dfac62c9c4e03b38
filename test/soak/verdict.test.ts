import { describe, expect, it } from 'vitest';
import type { Sample } from './monitor.ts';
import { parseDuration, THRESHOLDS } from './soak.ts';
import { type Evidence, judge } from './verdict.ts';

const MB = 1024 * 1024;

/** 30 samples, one a second; `at(i)` shapes sample i. */
function samples(at: (i: number) => Partial<Sample>): Sample[] {
  return Array.from({ length: 30 }, (_, i) => ({
    atMs: i * 1000,
    rssBytes: 300 * MB,
    fds: 47,
    sockets: 20,
    loaded: i * 100,
    ...at(i),
  }));
}

function evidence(over: Partial<Evidence> = {}): Evidence {
  return {
    samples: samples(() => ({})),
    acked: 1000,
    missing: [],
    missingCount: 0,
    duplicated: [],
    duplicatedCount: 0,
    serverErrors: 0,
    otherFailures: 0,
    failedLoads: 0,
    exitCode: 0,
    apiEvents: 1000,
    warehouseRows: 1000,
    ...over,
  };
}

const failed = (e: Evidence) =>
  judge(e, THRESHOLDS)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

describe('the soak verdict', () => {
  it('passes a flat, complete run', () => {
    expect(failed(evidence())).toEqual([]);
  });

  it('ignores warm-up growth and noise within the tolerance', () => {
    // Warm-up climbs 200 → 300 MB; afterwards it wanders by 40 MB and the sockets swing.
    const s = samples((i) => ({
      rssBytes: (i < 10 ? 200 + 10 * i : 300 + (i % 2) * 40) * MB,
      sockets: 15 + (i % 3) * 10,
      fds: 27 + 15 + (i % 3) * 10,
    }));
    expect(failed(evidence({ samples: s }))).toEqual([]);
  });

  it('fails RSS growth above both 64 MB and 25 % between the middle and last thirds', () => {
    const s = samples((i) => ({ rssBytes: (i < 20 ? 300 : 400) * MB }));
    expect(failed(evidence({ samples: s }))).toEqual(['RSS flat']);
    // 100 MB on a 1 GB process is under 25 %: noise at that size.
    const big = samples((i) => ({ rssBytes: (i < 20 ? 1000 : 1100) * MB }));
    expect(failed(evidence({ samples: big }))).toEqual([]);
  });

  it('fails descriptors other than sockets piling up, and sockets above the ceiling', () => {
    const files = samples((i) => ({ fds: 27 + 20 + (i < 20 ? 0 : 9) }));
    expect(failed(evidence({ samples: files }))).toEqual(['fds flat']);
    const sockets = samples((i) => ({ sockets: i === 25 ? THRESHOLDS.socketCeiling + 1 : 20 }));
    expect(failed(evidence({ samples: sockets }))).toEqual(['sockets bounded']);
  });

  it('fails a lost or duplicated event, a 5xx, a failed load, a disagreeing API, an unclean stop', () => {
    expect(failed(evidence({ missing: ['soak1-7'], missingCount: 1 }))).toEqual(['nothing lost']);
    expect(failed(evidence({ duplicated: [['soak1-7', 2]], duplicatedCount: 1 }))).toEqual([
      'nothing duplicated',
    ]);
    expect(failed(evidence({ serverErrors: 1 }))).toEqual(['no 5xx']);
    expect(failed(evidence({ failedLoads: 1 }))).toEqual(['every load ok']);
    expect(failed(evidence({ apiEvents: 999 }))).toEqual(['API agrees with the warehouse']);
    expect(failed(evidence({ exitCode: 1 }))).toEqual(['clean stop']);
  });

  it('refuses to call resources flat on too few samples', () => {
    const few = samples(() => ({})).slice(0, 12);
    expect(failed(evidence({ samples: few }))).toEqual([
      'enough samples',
      'RSS flat',
      'fds flat',
      'sockets bounded',
    ]);
  });
});

describe('--duration', () => {
  it('reads seconds, minutes and hours', () => {
    expect([parseDuration('60s'), parseDuration('10m'), parseDuration('2h'), parseDuration('90')]).toEqual([
      60_000, 600_000, 7_200_000, 90_000,
    ]);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
