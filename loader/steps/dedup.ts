/**
 * @module Step "dedup": drops an event whose messageId was already seen,
 * in this run or in an hour already loaded. Client retries and spool replays
 * reach the bus again minutes or hours later, possibly in another hour, so
 * each hour that gets events also brings in the persisted indexes of the
 * hours within `horizonHours` of it (loaded once per run, lazily). Indexes
 * of a crashed, uncommitted run are excluded: their files are about to be
 * overwritten or deleted, and counting them would drop the very events that
 * must be written again.
 *
 * Memory: 16–32 bytes per event of the run plus per indexed event within the
 * horizon (HashSet64); the horizon is configurable.
 */
import type { Logger } from '../../shared/logger.ts';
import type { ObjectStore } from '../../shared/object-store/object-store.ts';
import { forEachIndexedHash } from '../dedup/dedup-index-file.ts';
import { HashSet64 } from '../dedup/hash-set-64.ts';
import type { Hash64 } from '../dedup/message-hash.ts';
import { type Hour, hourLabel, type WarehouseLayout } from '../layout.ts';

export interface DedupOptions {
  store: ObjectStore;
  layout: WarehouseLayout;
  horizonHours: number;
  /** The current data prefix of an hour (a replayed hour lives under `v=<run>/`). */
  locate(hour: Hour): Promise<string>;
  /** Index keys not to trust: those of a crashed run. */
  excludeKeys: ReadonlySet<string>;
  /** Hours whose indexes are ignored: the ones a replay is rewriting. */
  skipHours?: ReadonlySet<Hour>;
  logger: Logger;
}

export class Deduplicator {
  readonly #options: DedupOptions;
  readonly #seen = new HashSet64(1 << 16);
  readonly #loaded = new HashSet64(1 << 10);
  readonly #hoursLoaded = new Map<Hour, Promise<void>>();
  #indexedEvents = 0;
  #indexBytes = 0;
  duplicates = 0;

  constructor(options: DedupOptions) {
    this.#options = options;
  }

  /** How many persisted hashes were read, and their size on the store. */
  get indexStats(): { events: number; bytes: number; hours: number } {
    return { events: this.#indexedEvents, bytes: this.#indexBytes, hours: this.#hoursLoaded.size };
  }

  /**
   * Makes sure the indexes around `hour` are loaded; call before `isDuplicate`
   * for an event of that hour. Concurrent callers share one load per hour.
   */
  async prepare(hour: Hour): Promise<void> {
    const { horizonHours } = this.#options;
    const loads: Promise<void>[] = [];
    for (let h = hour - horizonHours; h <= hour + horizonHours; h++) {
      let load = this.#hoursLoaded.get(h);
      if (!load) {
        load = this.#options.skipHours?.has(h) ? Promise.resolve() : this.#loadHour(h);
        this.#hoursLoaded.set(h, load);
      }
      loads.push(load);
    }
    await Promise.all(loads);
  }

  async #loadHour(hour: Hour): Promise<void> {
    const { store, layout, excludeKeys } = this.#options;
    const prefix = layout.dedupPrefixOf(await this.#options.locate(hour));
    let files = 0;
    for await (const info of store.list(prefix)) {
      const rest = info.key.slice(prefix.length);
      // Only this location's own indexes: a replayed hour's older versions sit below it.
      if (rest.includes('/') || !rest.endsWith('.idx') || excludeKeys.has(info.key)) continue;
      const bytes = await store.get(info.key);
      if (!bytes) continue;
      this.#indexBytes += bytes.byteLength;
      this.#indexedEvents += forEachIndexedHash(bytes, info.key, (h) => {
        this.#loaded.add(h);
      });
      files++;
    }
    if (files > 0) this.#options.logger.debug({ hour: hourLabel(hour), files }, 'dedup index loaded');
  }

  /** True (and counted) when the event was seen before; otherwise remembers it. */
  isDuplicate(h: Hash64): boolean {
    if (this.#loaded.has(h) || !this.#seen.add(h)) {
      this.duplicates++;
      return true;
    }
    return false;
  }
}
