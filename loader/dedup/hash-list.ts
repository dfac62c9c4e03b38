/**
 * @module A growable list of 64-bit hashes in one typed array: what a data
 * file's dedup index is built from, at 8 bytes an event.
 */
import type { Hash64 } from './message-hash.ts';

export class HashList {
  #words = new Uint32Array(2048);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(h: Hash64): void {
    if (this.#length * 2 + 2 > this.#words.length) {
      const bigger = new Uint32Array(this.#words.length * 2);
      bigger.set(this.#words);
      this.#words = bigger;
    }
    this.#words[this.#length * 2] = h.hi;
    this.#words[this.#length * 2 + 1] = h.lo;
    this.#length++;
  }

  /** The hashes as u64, sorted ascending. */
  sorted(): BigUint64Array {
    const out = new BigUint64Array(this.#length);
    for (let i = 0; i < this.#length; i++) {
      out[i] = (BigInt(this.#words[i * 2] as number) << 32n) | BigInt(this.#words[i * 2 + 1] as number);
    }
    return out.sort();
  }
}
