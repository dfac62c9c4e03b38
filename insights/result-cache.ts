/**
 * @module Answers kept in memory (lru-cache), bounded by bytes. Hours that
 * are closed (the loader has written them) do not change, so an answer whose
 * range ends before `closedAfterMs` ago is kept for `closedTtlMs`; one that
 * reaches into the open hour lives `openTtlMs`, so a dashboard left open sees
 * new data within that. Late events and replays rewrite closed hours rarely;
 * the long TTL bounds how stale that can leave an answer.
 */
import { LRUCache } from 'lru-cache';

export interface ResultCacheOptions {
  /** Upper bound on the JSON bytes held. */
  maxBytes: number;
  /** Lifetime of an answer whose hours are all closed. */
  closedTtlMs: number;
  /** Lifetime of an answer that includes an hour still being written. */
  openTtlMs: number;
  /** An hour counts as closed once it ended this long ago (the loader's cadence plus its run time). */
  closedAfterMs: number;
}

export const DEFAULT_CACHE_OPTIONS: ResultCacheOptions = {
  maxBytes: 64 * 1024 * 1024,
  closedTtlMs: 6 * 3_600_000,
  openTtlMs: 60_000,
  closedAfterMs: 2 * 3_600_000,
};

export interface ResultCache {
  /** The cached JSON body, or undefined. */
  get(key: string): string | undefined;
  set(key: string, body: string, rangeEnd: Date): void;
  /** Whether an answer over a range ending there would be kept for the long TTL. */
  isClosed(rangeEnd: Date): boolean;
  readonly size: number;
  clear(): void;
}

export function createResultCache(options: ResultCacheOptions, now: () => number = Date.now): ResultCache {
  const lru = new LRUCache<string, string>({
    maxSize: options.maxBytes,
    // A JS string of n UTF-16 units costs about 2n bytes.
    sizeCalculation: (body, key) => 2 * (body.length + key.length) + 64,
    perf: { now },
    // Read the clock on every lookup (the default caches it for a tick, which an injected clock outruns).
    ttlResolution: 0,
  });
  const isClosed = (rangeEnd: Date) => rangeEnd.getTime() <= now() - options.closedAfterMs;
  return {
    get: (key) => lru.get(key),
    set: (key, body, rangeEnd) => {
      lru.set(key, body, { ttl: isClosed(rangeEnd) ? options.closedTtlMs : options.openTtlMs });
    },
    isClosed,
    get size() {
      return lru.size;
    },
    clear: () => lru.clear(),
  };
}
