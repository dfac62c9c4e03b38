/**
 * @module A lease in the object store, so two loaders (two schedulers, or a
 * scheduler and an operator's replay) never work on one topic at once. Taken
 * with a create-only put (If-None-Match: *), renewed while held, and taken
 * over only after it expired (a crashed holder cannot release it). The
 * takeover of an expired lease is a delete then a create-only put, so two
 * contenders racing for one expired lease are told apart by the create; the
 * port has no conditional delete, so a contender that reads the expired lease
 * just before another takes it over can still delete the new one. The TTL is
 * hours and a live holder renews it, so this needs a holder that died and two
 * contenders within the same second: documented, not defended.
 */
import { hostname } from 'node:os';
import { PipelineError, StoreError } from '../shared/errors.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import { isProcessAlive } from '../shared/runtime/process-alive.ts';

export interface LockRecord {
  owner: string;
  purpose: string;
  host: string;
  pid: number;
  acquiredAt: string;
  expiresAt: string;
}

export class LockBusyError extends PipelineError {
  readonly holder: LockRecord | null;
  constructor(key: string, holder: LockRecord | null) {
    super(
      holder
        ? `another loader holds ${key}: ${holder.purpose} by ${holder.owner} on ${holder.host} (pid ${holder.pid}) until ${holder.expiresAt}; wait for it, or delete the key if that process is gone`
        : `another loader holds ${key}`,
      { retriable: true, code: 'lock_busy', status: 409 },
    );
    this.holder = holder;
  }
}

export interface HeldLock {
  readonly record: LockRecord;
  /** Pushes the expiry forward; call well within the TTL while working. */
  renew(): Promise<void>;
  /** Deletes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface LockOptions {
  owner: string;
  purpose: string;
  ttlMs: number;
  now?: () => number;
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof StoreError && err.code === 'precondition_failed';
}

async function readLock(store: ObjectStore, key: string): Promise<LockRecord | null> {
  const bytes = await store.get(key);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as LockRecord;
  } catch {
    // A torn or foreign object at the lock key: treat it as expired rather than wedging every run.
    return {
      owner: '?',
      purpose: '?',
      host: '?',
      pid: 0,
      acquiredAt: '',
      expiresAt: new Date(0).toISOString(),
    };
  }
}

/**
 * A holder on this host whose process is gone (SIGKILL, OOM, power cut of a
 * container keeps its hostname only while it lives): no need to wait out its TTL.
 */
function diedOnThisHost(holder: LockRecord): boolean {
  if (holder.host !== hostname() || holder.pid === process.pid || holder.pid <= 0) return false;
  return !isProcessAlive(holder.pid);
}

export async function acquireLock(store: ObjectStore, key: string, options: LockOptions): Promise<HeldLock> {
  const now = options.now ?? Date.now;
  const make = (): LockRecord => ({
    owner: options.owner,
    purpose: options.purpose,
    host: hostname(),
    pid: process.pid,
    acquiredAt: new Date(now()).toISOString(),
    expiresAt: new Date(now() + options.ttlMs).toISOString(),
  });
  let record = make();
  for (let attempt = 0; ; attempt++) {
    try {
      await store.put(key, JSON.stringify(record), { ifNoneMatch: true, contentType: 'application/json' });
      break;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      const holder = await readLock(store, key);
      if (holder && Date.parse(holder.expiresAt) > now() && !diedOnThisHost(holder))
        throw new LockBusyError(key, holder);
      if (attempt >= 1) throw new LockBusyError(key, holder);
      // Expired, its holder died here, or it vanished between our put and get: remove it, try once more.
      await store.delete([key]);
      record = make();
    }
  }
  const held: HeldLock = {
    get record() {
      return record;
    },
    async renew() {
      const current = await readLock(store, key);
      if (current?.owner !== options.owner) throw new LockBusyError(key, current);
      record = { ...record, expiresAt: new Date(now() + options.ttlMs).toISOString() };
      await store.put(key, JSON.stringify(record), { contentType: 'application/json' });
    },
    async release() {
      const current = await readLock(store, key);
      if (current?.owner === options.owner) await store.delete([key]);
    },
  };
  return held;
}

export { readLock };
