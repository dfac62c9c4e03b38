import { describe, expect, it } from 'vitest';
import { StoreError } from '../../shared/errors.ts';
import { seededRandom, seededUuid } from '../fixtures/synthetic-events.ts';
import { encodeDedupIndex, forEachIndexedHash } from './dedup-index-file.ts';
import { HashList } from './hash-list.ts';
import { HashSet64 } from './hash-set-64.ts';
import { type Hash64, hashToBigInt, messageIdHash } from './message-hash.ts';

describe('messageIdHash', () => {
  it('is stable and spreads 200k seeded UUIDs without a collision', () => {
    expect(messageIdHash('abc')).toEqual(messageIdHash('abc'));
    expect(messageIdHash('abc')).not.toEqual(messageIdHash('abd'));
    const rand = seededRandom(1);
    const seen = new Set<bigint>();
    for (let i = 0; i < 200_000; i++) seen.add(hashToBigInt(messageIdHash(seededUuid(rand))));
    expect(seen.size).toBe(200_000);
  });
});

describe('HashSet64', () => {
  it('adds, finds and refuses repeats while growing', () => {
    const set = new HashSet64(4);
    const rand = seededRandom(2);
    const hashes: Hash64[] = Array.from({ length: 10_000 }, () => messageIdHash(seededUuid(rand)));
    for (const h of hashes) expect(set.add(h)).toBe(true);
    for (const h of hashes) expect(set.add(h)).toBe(false);
    expect(set.size).toBe(10_000);
    expect(set.has({ hi: 0, lo: 0 })).toBe(false);
    expect(set.add({ hi: 0, lo: 0 })).toBe(true);
    expect(set.has({ hi: 0, lo: 0 })).toBe(true);
  });
});

describe('dedup index file', () => {
  it('round-trips sorted, at 8 bytes an event plus an 8-byte header', () => {
    const list = new HashList();
    const rand = seededRandom(3);
    const hashes = Array.from({ length: 5000 }, () => messageIdHash(seededUuid(rand)));
    for (const h of hashes) list.push(h);
    const bytes = encodeDedupIndex(list);
    expect(bytes.byteLength).toBe(8 + 5000 * 8);
    const back: bigint[] = [];
    expect(forEachIndexedHash(bytes, 'k', (h) => back.push(hashToBigInt(h)))).toBe(5000);
    expect(back).toEqual([...back].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(back)).toEqual(new Set(hashes.map(hashToBigInt)));
  });

  it('refuses a file that is not an index, naming the key', () => {
    expect(() => forEachIndexedHash(new TextEncoder().encode('hello world!'), 'x.idx', () => {})).toThrow(
      StoreError,
    );
    const truncated = encodeDedupIndex(new HashList()).slice(0, 6);
    expect(() => forEachIndexedHash(truncated, 'y.idx', () => {})).toThrow(/y\.idx/);
  });
});
