/**
 * @module A set of 64-bit hashes in two typed arrays (open addressing, linear
 * probing). A JS Set of strings or BigInts costs 50–80 bytes an entry; this
 * costs 8 bytes a slot at most half full, so 16–32 bytes an entry, and the
 * garbage collector sees two arrays instead of millions of objects.
 */
import type { Hash64 } from './message-hash.ts';

export class HashSet64 {
  #hi: Uint32Array;
  #lo: Uint32Array;
  #used: Uint8Array;
  #mask: number;
  #size = 0;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#used = new Uint8Array(capacity);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  has(h: Hash64): boolean {
    for (let i = h.lo & this.#mask; this.#used[i] === 1; i = (i + 1) & this.#mask) {
      if (this.#lo[i] === h.lo && this.#hi[i] === h.hi) return true;
    }
    return false;
  }

  /** Adds the hash; false when it was already there. */
  add(h: Hash64): boolean {
    if ((this.#size + 1) * 2 > this.#used.length) this.#grow();
    let i = h.lo & this.#mask;
    for (; this.#used[i] === 1; i = (i + 1) & this.#mask) {
      if (this.#lo[i] === h.lo && this.#hi[i] === h.hi) return false;
    }
    this.#used[i] = 1;
    this.#hi[i] = h.hi;
    this.#lo[i] = h.lo;
    this.#size++;
    return true;
  }

  #grow(): void {
    const hi = this.#hi;
    const lo = this.#lo;
    const used = this.#used;
    const capacity = used.length * 2;
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#used = new Uint8Array(capacity);
    this.#mask = capacity - 1;
    this.#size = 0;
    for (let i = 0; i < used.length; i++) {
      if (used[i] === 1) this.add({ hi: hi[i] as number, lo: lo[i] as number });
    }
  }
}
