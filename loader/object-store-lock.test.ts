import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirObjectStore } from '../shared/object-store/dir/dir-object-store.ts';
import { acquireLock, LockBusyError, readLock } from './object-store-lock.ts';

describe('object-store lock', () => {
  let dir: string;
  let store: DirObjectStore;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loader-lock-'));
    store = new DirObjectStore({ root: dir });
    clock = Date.UTC(2026, 10, 25, 9);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lets one holder in and tells the second who holds it', async () => {
    const a = await acquireLock(store, '_loader/lock/events.json', {
      owner: 'a',
      purpose: 'run',
      ttlMs: 60_000,
      now,
    });
    const second = acquireLock(store, '_loader/lock/events.json', {
      owner: 'b',
      purpose: 'replay',
      ttlMs: 60_000,
      now,
    });
    await expect(second).rejects.toBeInstanceOf(LockBusyError);
    await expect(second).rejects.toThrow(/run by a/);
    await a.release();
    const b = await acquireLock(store, '_loader/lock/events.json', {
      owner: 'b',
      purpose: 'replay',
      ttlMs: 60_000,
      now,
    });
    expect((await readLock(store, '_loader/lock/events.json'))?.owner).toBe('b');
    await b.release();
    expect(await readLock(store, '_loader/lock/events.json')).toBeNull();
  });

  it('takes over a lease that expired (its holder died) and keeps a renewed one', async () => {
    const a = await acquireLock(store, 'lock', { owner: 'a', purpose: 'run', ttlMs: 60_000, now });
    clock += 50_000;
    await a.renew();
    clock += 50_000;
    await expect(
      acquireLock(store, 'lock', { owner: 'b', purpose: 'run', ttlMs: 60_000, now }),
    ).rejects.toThrow(LockBusyError);
    clock += 60_001;
    const b = await acquireLock(store, 'lock', { owner: 'b', purpose: 'run', ttlMs: 60_000, now });
    // The old holder finds out at its next renewal, and its release leaves b's lock alone.
    await expect(a.renew()).rejects.toThrow(LockBusyError);
    await a.release();
    expect((await readLock(store, 'lock'))?.owner).toBe('b');
    await b.release();
  });
});

describe('object-store lock of a dead process on this host', () => {
  it('is taken over at once, without waiting for its expiry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loader-lock-'));
    const store = new DirObjectStore({ root: dir });
    try {
      const { hostname } = await import('node:os');
      // A pid that cannot be alive: above the kernel's pid_max.
      const dead = {
        owner: 'x',
        purpose: 'run',
        host: hostname(),
        pid: 2 ** 30,
        acquiredAt: '',
        expiresAt: '2999-01-01T00:00:00Z',
      };
      await store.put('lock', JSON.stringify(dead));
      const held = await acquireLock(store, 'lock', { owner: 'me', purpose: 'run', ttlMs: 60_000 });
      expect(held.record.owner).toBe('me');
      await held.release();
      await store.put('lock', JSON.stringify({ ...dead, host: 'another-host' }));
      await expect(
        acquireLock(store, 'lock', { owner: 'me', purpose: 'run', ttlMs: 60_000 }),
      ).rejects.toThrow(LockBusyError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
