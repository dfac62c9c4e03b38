import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runObjectStoreContract } from '../object-store.contract.ts';
import { DirObjectStore } from './dir-object-store.ts';

runObjectStoreContract('directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'b2h-dir-store-'));
  return { store: new DirObjectStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('DirObjectStore', () => {
  it('locates keys as absolute filesystem paths', () => {
    const store = new DirObjectStore({ root: 'relative/root' });
    expect(isAbsolute(store.root)).toBe(true);
    expect(store.location('a/b')).toEqual({ kind: 'dir', path: join(store.root, 'a/b') });
    expect(store.location('')).toEqual({ kind: 'dir', path: store.root });
  });

  it('leaves no temp files or empty directories behind', async () => {
    const root = await mkdtemp(join(tmpdir(), 'b2h-dir-store-'));
    try {
      const store = new DirObjectStore({ root });
      await store.put('x/y/z', 'z');
      await store.put('x/y/z', 'again');
      await expect(store.put('x/y/z', 'no', { ifNoneMatch: true })).rejects.toThrow(/already exists/);
      expect(await readdir(join(root, 'x/y'))).toEqual(['z']);
      await store.deletePrefix('x/');
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
