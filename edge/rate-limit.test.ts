import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('token bucket', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    let now = 0;
    const limiter = createRateLimiter({ clock: { now: () => now }, maxKeys: 10 });
    const limit = { perSecond: 2, burst: 5 };
    expect(limiter.take('k', limit, 5)).toEqual({ allowed: true });
    expect(limiter.take('k', limit, 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('k', limit, 4)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    now += 500;
    expect(limiter.take('k', limit, 1)).toEqual({ allowed: true });
    // A batch larger than the burst costs a full bucket instead of never passing.
    now += 10_000;
    expect(limiter.take('k', limit, 500)).toEqual({ allowed: true });
  });

  it('keeps keys apart and forgets the least recently used beyond maxKeys', () => {
    const limiter = createRateLimiter({ clock: { now: () => 0 }, maxKeys: 2 });
    const limit = { perSecond: 1, burst: 1 };
    expect(limiter.take('a', limit, 1).allowed).toBe(true);
    expect(limiter.take('b', limit, 1).allowed).toBe(true);
    expect(limiter.take('a', limit, 1).allowed).toBe(false);
    limiter.take('c', limit, 1); // evicts b, the least recently used
    expect(limiter.take('b', limit, 1).allowed).toBe(true);
  });
});
