/**
 * @module The object store as a directory: one-machine mode and unit tests.
 * Every put writes a temp file beside its target, fsyncs it, then renames it
 * into place (or hard-links it, for create-only puts), so a reader or a crash
 * sees the whole object or none of it, like S3.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chunked } from '../../batches.ts';
import { fsyncDirectory } from '../../durable-write.ts';
import { StoreError } from '../../errors.ts';
import { assertKeyPrefix, assertObjectKey, TEMP_SUFFIX } from '../object-key.ts';
import type { ObjectInfo, ObjectStore, PutOptions, StoreLocation } from '../object-store.ts';
import { mapStreamErrors } from '../stream-errors.ts';

export interface DirObjectStoreOptions {
  /** The directory holding the objects; created on the first put. */
  root: string;
}

/** How many keys deletePrefix removes per round, so a huge prefix stays in bounded memory. */
const DELETE_BATCH = 1000;

export class DirObjectStore implements ObjectStore {
  readonly root: string;

  constructor(options: DirObjectStoreOptions) {
    this.root = resolve(options.root);
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<void> {
    assertObjectKey(key);
    const target = this.pathOf(key);
    const dir = dirname(target);
    const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await this.writeTemp(temp, body);
      if (options.ifNoneMatch) {
        // link() fails with EEXIST when the target exists: an atomic create-only
        // publish of a file that is already complete.
        await link(temp, target);
        await unlink(temp);
      } else {
        await rename(temp, target);
      }
      // The rename is durable only once the directory entry is on disk.
      await fsyncDirectory(dir);
    } catch (error) {
      await rm(temp, { force: true });
      if (errnoOf(error) === 'EEXIST' && options.ifNoneMatch) {
        throw new StoreError(`Object ${key} already exists (create-only put)`, {
          code: 'precondition_failed',
          status: 412,
          cause: error,
        });
      }
      throw fsError(`put ${key}`, error);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertObjectKey(key);
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
      throw fsError(`get ${key}`, error);
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    assertObjectKey(key);
    // Opened here, not lazily by the stream: a missing key is null, not a stream that fails later.
    const handle = await open(this.pathOf(key), 'r').catch((error: unknown) => {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw fsError(`get ${key}`, error);
    });
    if (handle === null) return null;
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      return null;
    }
    return mapStreamErrors(handle.createReadStream(), (error) => fsError(`get ${key}`, error));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    // Start at the deepest directory the prefix names in full; the rest of the
    // prefix filters names inside it.
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash === -1 ? '' : prefix.slice(0, slash), prefix);
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) assertObjectKey(key);
    const parents = new Set<string>();
    for (const key of keys) {
      try {
        await unlink(this.pathOf(key));
      } catch (error) {
        const code = errnoOf(error);
        // Deleting what is not there succeeds, as on S3.
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR')
          throw fsError(`delete ${key}`, error);
      }
      parents.add(dirname(this.pathOf(key)));
    }
    for (const dir of parents) await this.pruneEmptyDirectories(dir);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertKeyPrefix(prefix);
    let deleted = 0;
    for await (const batch of chunked(this.list(prefix), DELETE_BATCH)) {
      await this.delete(batch.map((object) => object.key));
      deleted += batch.length;
    }
    return deleted;
  }

  location(key: string): StoreLocation {
    assertKeyPrefix(key);
    return { kind: 'dir', path: key === '' ? this.root : join(this.root, key) };
  }

  private pathOf(key: string): string {
    return join(this.root, key);
  }

  /** Writes and fsyncs the temp file; retries when a concurrent delete pruned the (empty) directory meanwhile. */
  private async writeTemp(temp: string, body: Uint8Array | string | Readable): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(temp), { recursive: true });
      try {
        const stream = createWriteStream(temp, { flags: 'wx', flush: true });
        await new Promise<void>((resolveOpen, rejectOpen) => {
          stream.once('open', () => resolveOpen());
          stream.once('error', rejectOpen);
        });
        if (typeof body === 'string' || body instanceof Uint8Array) {
          await pipeline(async function* () {
            yield body;
          }, stream);
        } else {
          await pipeline(body, stream);
        }
        // `flush` fsyncs at close: wait for it, or the rename could publish unsynced data.
        if (!stream.closed) await once(stream, 'close');
        return;
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
  }

  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dirKey === '' ? this.root : this.pathOf(dirKey), { withFileTypes: true });
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fsError(`list ${prefix}`, error);
    }
    // S3 lists in UTF-8 byte order of the whole key, where 'a/b' sorts after
    // 'a.txt': sort a directory as its name plus '/'.
    const sorted = entries
      .filter((entry) => (entry.isFile() || entry.isDirectory()) && !entry.name.endsWith(TEMP_SUFFIX))
      .map((entry) => ({ entry, order: Buffer.from(entry.isDirectory() ? `${entry.name}/` : entry.name) }))
      .sort((a, b) => Buffer.compare(a.order, b.order));
    for (const { entry } of sorted) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        const asPrefix = `${key}/`;
        if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix)) yield* this.walk(key, prefix);
      } else if (key.startsWith(prefix)) {
        let info: Awaited<ReturnType<typeof stat>>;
        try {
          info = await stat(this.pathOf(key));
        } catch (error) {
          if (errnoOf(error) === 'ENOENT') continue; // deleted while we listed
          throw fsError(`list ${prefix}`, error);
        }
        yield { key, size: Number(info.size), lastModified: info.mtime };
      }
    }
  }

  /** Removes directories left empty, up to (not including) the root: a prefix deleted leaves no trace. */
  private async pruneEmptyDirectories(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(`${this.root}/`)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or gone): stop climbing
      }
      current = dirname(current);
    }
  }
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

const RETRIABLE_ERRNO = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EIO', 'ENOSPC', 'ETIMEDOUT']);

function fsError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = errnoOf(error);
  return new StoreError(
    `Directory store could not ${what}: ${error instanceof Error ? error.message : error}`,
    {
      code: 'io_error',
      retriable: code !== undefined && RETRIABLE_ERRNO.has(code),
      cause: error,
    },
  );
}
