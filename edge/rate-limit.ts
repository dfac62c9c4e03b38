/**
 * @module Per-write-key token buckets, in memory and bounded by an LRU: the
 * edge scales out behind a load balancer, so each instance enforces its
 * share; a key idle long enough to be evicted starts again with a full
 * bucket, which is what it would have anyway. Tokens are events, not
 * requests: a batch of 100 costs 100.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.ts';
import type { RateLimit } from './project-registry.ts';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(key: string, limit: RateLimit, cost: number): RateDecision;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createRateLimiter(options: { clock: Clock; maxKeys: number }): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: options.maxKeys });
  return {
    take(key, limit, cost) {
      const now = options.clock.now();
      const bucket = buckets.get(key) ?? { tokens: limit.burst, updatedMs: now };
      const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsed * limit.perSecond);
      bucket.updatedMs = now;
      buckets.set(key, bucket);
      // A batch larger than the burst could never pass: it costs a full bucket.
      const price = Math.min(cost, limit.burst);
      if (bucket.tokens >= price) {
        bucket.tokens -= price;
        return { allowed: true };
      }
      const wait = (price - bucket.tokens) / limit.perSecond;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    },
  };
}
