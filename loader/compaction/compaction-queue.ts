/**
 * @module The hours waiting for compaction: every hour a load wrote to since
 * its last compaction, in one small object (`_loader/compaction/<topic>.json`).
 * A run adds its hours before its commit point, so no committed file is ever
 * missing from the queue (a crash before the commit only leaves an extra
 * hour, which compaction skips when it has one file). Compaction removes
 * the hours it rewrote. Both happen under the topic's lock, so they never
 * race. A warehouse loaded before the queue existed is seeded once from a
 * listing of the `events` table.
 */

import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import { type Hour, hourLabel, parseHour, type WarehouseLayout } from '../layout.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';

interface QueueObject {
  hours: string[];
}

export class CompactionQueue {
  readonly #store: ObjectStore;
  readonly #layout: WarehouseLayout;
  readonly #key: string;

  constructor(store: ObjectStore, layout: WarehouseLayout, topic: string) {
    this.#store = store;
    this.#layout = layout;
    this.#key = layout.compactionQueueKey(topic);
  }

  /** The queued hours, ascending; seeded from the warehouse on first use. */
  async hours(): Promise<Hour[]> {
    const bytes = await this.#store.get(this.#key);
    if (bytes) {
      const value = JSON.parse(new TextDecoder().decode(bytes)) as QueueObject;
      return value.hours.map(parseHour).sort((a, b) => a - b);
    }
    const seeded = await this.#seed();
    await this.#write(seeded);
    return seeded;
  }

  async add(hours: Iterable<Hour>): Promise<void> {
    const added = [...hours];
    if (added.length === 0) return;
    const bytes = await this.#store.get(this.#key);
    const current = bytes
      ? (JSON.parse(new TextDecoder().decode(bytes)) as QueueObject).hours.map(parseHour)
      : await this.#seed();
    await this.#write([...new Set([...current, ...added])]);
  }

  async remove(hours: Iterable<Hour>): Promise<void> {
    const gone = new Set(hours);
    if (gone.size === 0) return;
    const current = await this.hours();
    await this.#write(current.filter((h) => !gone.has(h)));
  }

  async #seed(): Promise<Hour[]> {
    const hours = new Set<Hour>();
    for await (const info of this.#store.list(this.#layout.tableDir('events'))) {
      if (!info.key.endsWith('.parquet')) continue;
      const hour = this.#layout.hourOfKey(info.key);
      if (hour !== null) hours.add(hour);
    }
    return [...hours];
  }

  async #write(hours: Hour[]): Promise<void> {
    const value: QueueObject = { hours: [...hours].sort((a, b) => a - b).map(hourLabel) };
    await this.#store.put(this.#key, JSON.stringify(value), { contentType: 'application/json' });
  }
}

/** The hours queued for compaction, and their removal once done. */
export interface HourQueue {
  hours(): Promise<Hour[]>;
  remove(hours: Iterable<Hour>): Promise<void>;
}

/**
 * The queue a compaction reads: the topic's, or, scaled out, the union of
 * every slot's (each slot's loads add to their own object, so processes never
 * overwrite each other's) and the topic's a single loader left before.
 */
export function compactionQueueOf(deps: Pick<LoaderDeps, 'store' | 'settings' | 'scope'>): HourQueue {
  const layout = layoutOf(deps);
  const slots = deps.scope?.slotStates;
  const topic = new CompactionQueue(deps.store, layout, deps.settings.topic);
  if (!slots) return topic;
  const queues = [topic, ...slots.map((s) => new CompactionQueue(deps.store, layout, s.state))];
  return {
    async hours() {
      const all = new Set<Hour>();
      for (const q of queues) for (const h of await q.hours()) all.add(h);
      return [...all].sort((a, b) => a - b);
    },
    async remove(hours) {
      const gone = [...hours];
      for (const q of queues) await q.remove(gone);
    },
  };
}
