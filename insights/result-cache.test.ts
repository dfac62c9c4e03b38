import { describe, expect, it } from 'vitest';
import { createResultCache } from './result-cache.ts';

describe('result cache', () => {
  it('keeps answers over closed hours longer than answers over the open hour', () => {
    let now = Date.parse('2026-11-25T12:30:00Z');
    const cache = createResultCache(
      { maxBytes: 1 << 20, closedTtlMs: 3_600_000, openTtlMs: 60_000, closedAfterMs: 2 * 3_600_000 },
      () => now,
    );
    cache.set('closed', '{}', new Date('2026-11-25T10:00:00Z'));
    cache.set('open', '{}', new Date('2026-11-25T13:00:00Z'));
    expect(cache.isClosed(new Date('2026-11-25T10:00:00Z'))).toBe(true);
    expect(cache.isClosed(new Date('2026-11-25T11:00:00Z'))).toBe(false);
    now += 61_000;
    expect(cache.get('open')).toBeUndefined();
    expect(cache.get('closed')).toBe('{}');
    now += 3_600_000;
    expect(cache.get('closed')).toBeUndefined();
  });

  it('evicts the least recently used answers beyond its byte budget', () => {
    const cache = createResultCache({ maxBytes: 10_000, closedTtlMs: 1e9, openTtlMs: 1e9, closedAfterMs: 0 });
    const body = 'x'.repeat(2_000);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, body, new Date(0));
    expect(cache.size).toBeLessThan(5);
    expect(cache.get('k4')).toBe(body);
    expect(cache.get('k0')).toBeUndefined();
  });
});
