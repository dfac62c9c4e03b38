/**
 * @module The one suite every ObjectStore adapter passes (`runObjectStoreContract`),
 * so the directory store of one-machine mode behaves like S3 where the loader
 * and insights rely on it: whole-or-nothing puts, create-only puts as locks,
 * streamed reads, listing in key order with pagination, prefix deletes.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import type { ObjectInfo, ObjectStore, StoreLocation } from './object-store.ts';

/**
 * What tests clean up with. `deletePrefix` is no part of the port (nothing in
 * production deletes a whole prefix) but every adapter has one for its
 * tests: S3's also removes the folder markers Hive's S3A writes, which `list`
 * skips and `delete` refuses as keys, so no helper over the port could.
 */
export interface CleanableStore extends ObjectStore {
  /** Deletes everything under `prefix` in batches (S3's DeleteObjects takes 1000); returns how many objects. */
  deletePrefix(prefix: string): Promise<number>;
}

export interface ObjectStoreFixture {
  /** A store rooted at a place no other test uses (a temp dir, a unique S3 prefix). */
  store: CleanableStore;
  /** Removes whatever the suite left behind. */
  cleanup(): Promise<void>;
}

/** Deterministic pseudo-random bytes (SHA-256 in counter mode): a failing size can be replayed. */
function seededBytes(seed: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0, counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
    offset += block.length;
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A stream of unknown length, in uneven chunks, as a Parquet writer would produce. */
function chunkedStream(bytes: Uint8Array, chunk: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield Buffer.from(bytes.subarray(i, i + chunk));
    })(),
  );
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

export function runObjectStoreContract(name: string, factory: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: CleanableStore;

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it('puts strings and bytes and gets them back; a missing key is null', async () => {
      await store.put('basic/hello.txt', 'héllo wörld ✓', { contentType: 'text/plain' });
      expect(Buffer.from((await store.get('basic/hello.txt'))!).toString('utf8')).toBe('héllo wörld ✓');

      const bytes = seededBytes('basic', 4096);
      await store.put('basic/bytes.bin', bytes);
      expect(sha256((await store.get('basic/bytes.bin'))!)).toBe(sha256(bytes));

      // Overwrite replaces the whole object.
      await store.put('basic/bytes.bin', 'short');
      expect(Buffer.from((await store.get('basic/bytes.bin'))!).toString()).toBe('short');

      expect(await store.get('basic/missing.txt')).toBeNull();
      expect(await store.get('no/such/dir/file')).toBeNull();
    });

    it('puts an empty object', async () => {
      await store.put('basic/empty', new Uint8Array(0));
      expect((await store.get('basic/empty'))?.length).toBe(0);
    });

    it('streams an object back, and null for a missing key', async () => {
      const bytes = seededBytes('get-stream', 3 * 1024 * 1024 + 17);
      await store.put('stream-back/big.bin', bytes);
      const stream = await store.getStream('stream-back/big.bin');
      expect(stream).not.toBeNull();
      const chunks: Buffer[] = [];
      for await (const chunk of stream!) chunks.push(chunk as Buffer);
      expect(chunks.length).toBeGreaterThan(1); // read in pieces, not one buffer
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
      expect(await store.getStream('stream-back/missing.bin')).toBeNull();
      expect(await store.getStream('no/such/dir/file')).toBeNull();
      expect(await store.getStream('stream-back')).toBeNull(); // a prefix is no object
      await expectStoreError(store.getStream('../etc/passwd'), 'invalid_key');
    });

    it('streams a body of unknown length larger than one multipart part', async () => {
      const bytes = seededBytes('stream', 11 * 1024 * 1024 + 123);
      await store.put('stream/big.bin', chunkedStream(bytes, 64 * 1024 + 7));
      const back = await store.get('stream/big.bin');
      expect(back?.length).toBe(bytes.length);
      expect(sha256(back!)).toBe(sha256(bytes));
    });

    it('streams a small body too', async () => {
      await store.put('stream/small.txt', chunkedStream(Buffer.from('a,b\n1,2\n'), 3));
      expect(Buffer.from((await store.get('stream/small.txt'))!).toString()).toBe('a,b\n1,2\n');
    });

    it('create-only put fails with precondition_failed when the key exists, and keeps the first body', async () => {
      await store.put('lock/owner', 'first', { ifNoneMatch: true });
      const error = await expectStoreError(
        store.put('lock/owner', 'second', { ifNoneMatch: true }),
        'precondition_failed',
      );
      expect(error.retriable).toBe(false);
      await expectStoreError(
        store.put('lock/owner', chunkedStream(Buffer.from('third'), 2), { ifNoneMatch: true }),
        'precondition_failed',
      );
      expect(Buffer.from((await store.get('lock/owner'))!).toString()).toBe('first');
    });

    it('create-only holds for a stream big enough to go up in parts', async () => {
      const bytes = seededBytes('create-only-big', 6 * 1024 * 1024 + 1);
      await store.put('lock/big', chunkedStream(bytes, 256 * 1024), { ifNoneMatch: true });
      await expectStoreError(
        store.put('lock/big', chunkedStream(seededBytes('other', bytes.length), 256 * 1024), {
          ifNoneMatch: true,
        }),
        'precondition_failed',
      );
      expect(sha256((await store.get('lock/big'))!)).toBe(sha256(bytes));
    });

    it('create-only puts racing for one key: exactly one wins', async () => {
      const contenders = Array.from({ length: 6 }, (_, i) =>
        store.put('lock/race', `contender-${i}`, { ifNoneMatch: true }).then(
          () => i,
          (error: unknown) => {
            if (error instanceof StoreError && error.code === 'precondition_failed') return -1;
            throw error;
          },
        ),
      );
      const winners = (await Promise.all(contenders)).filter((i) => i >= 0);
      expect(winners).toHaveLength(1);
      expect(Buffer.from((await store.get('lock/race'))!).toString()).toBe(`contender-${winners[0]}`);
    });

    it('lists everything under a prefix in key order, with sizes', async () => {
      const keys = [
        'order/a.txt',
        'order/a/b',
        'order/a/c/d',
        'order/b',
        'order/aa',
        'order/Z',
        'order/é',
        'order/a-1',
      ];
      for (const key of keys) await store.put(key, key);
      const listed = await collect(store.list('order/'));
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(listed.map((o) => o.key)).toEqual(expected);
      for (const o of listed) {
        expect(o.size).toBe(Buffer.byteLength(o.key));
        expect(o.lastModified).toBeInstanceOf(Date);
        expect(Number.isNaN(o.lastModified.getTime())).toBe(false);
      }
      // A prefix need not end at a '/'.
      expect((await collect(store.list('order/a'))).map((o) => o.key)).toEqual(
        expected.filter((k) => k.startsWith('order/a')),
      );
      expect((await collect(store.list('order/a/'))).map((o) => o.key)).toEqual(['order/a/b', 'order/a/c/d']);
      expect(await collect(store.list('order/nothing-here/'))).toEqual([]);
    });

    it('lists past one page (more than 1000 keys)', async () => {
      const keys = Array.from({ length: 1050 }, (_, i) => `many/k${String(i).padStart(5, '0')}`);
      await inBatches(keys, 25, (key) => store.put(key, 'x'));
      const listed = await collect(store.list('many/'));
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(await store.deletePrefix('many/')).toBe(1050);
      expect(await collect(store.list('many/'))).toEqual([]);
    });

    it('deletes keys (missing ones too) and prefixes, leaving neighbours alone', async () => {
      await store.put('del/p/a/1', '1');
      await store.put('del/p/a/2', '2');
      await store.put('del/p/ab', 'neighbour');
      await store.put('del/q', 'q');
      await store.delete(['del/q', 'del/never-was']);
      expect(await store.get('del/q')).toBeNull();
      expect(await store.deletePrefix('del/p/a/')).toBe(2);
      expect((await collect(store.list('del/'))).map((o) => o.key)).toEqual(['del/p/ab']);
      await store.delete([]);
      expect(await store.deletePrefix('del/none/')).toBe(0);
    });

    it('refuses keys that could escape the store or be ambiguous', async () => {
      for (const bad of ['', '../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'nul\0x']) {
        await expectStoreError(store.put(bad, 'x'), 'invalid_key');
      }
      await expectStoreError(store.get('../etc/passwd'), 'invalid_key');
    });

    it('gives each key a location that names it', () => {
      // The part of a location that names the key: the whole key on S3, the path of a directory.
      const named = (location: StoreLocation) => (location.kind === 's3' ? location.key : location.path);
      const root = store.location('');
      const location = store.location('loc/dt=2026-11-25/hour=09');
      expect(location.kind).toBe(root.kind);
      expect(named(location).endsWith('loc/dt=2026-11-25/hour=09')).toBe(true);
      expect(named(store.location('loc/x')).startsWith(named(root))).toBe(true);
    });
  });
}
