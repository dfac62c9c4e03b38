/**
 * @module Where the loader puts things in the object store (docs/warehouse.md,
 * "Keys"): table data under `<prefix><table>/dt=…/hour=…/`, and
 * its own bookkeeping under `<prefix>_loader/` (a leading underscore, so
 * Hive and DuckDB globs never read it as data).
 *
 * Hours are whole hours since the epoch (UTC), the loader's bucket key.
 */
import { InputError } from '../shared/errors.ts';
import { partitionOf, type RollupTable } from '../shared/warehouse.ts';

export const HOUR_MS = 3_600_000;
const HOUR_US = 3_600_000_000;

export type Hour = number;

export function hourOfMicros(micros: number): Hour {
  return Math.floor(micros / HOUR_US);
}

export function hourPartition(hour: Hour): { dt: string; hour: string } {
  return partitionOf(new Date(hour * HOUR_MS));
}

/** `2026-11-25T09`: how hours appear in logs, state and on the command line. */
export function hourLabel(hour: Hour): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 13);
}

/**
 * Parses `2026-11-25T09`, `2026-11-25T09:00`, `2026-11-25T09:00:00Z` or any
 * ISO instant (as UTC) to its hour; throws an InputError otherwise.
 */
export function parseHour(text: string): Hour {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text.trim(),
  );
  const ms = m ? Date.parse(`${m[1]}T${m[2]}:00:00${m[3] ?? 'Z'}`) + minutesIn(text) * 60_000 : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InputError(`"${text}" is not an hour; write it like 2026-11-25T09 (UTC)`, {
      status: 400,
      code: 'bad_hour',
    });
  }
  return Math.floor(ms / HOUR_MS);
}

function minutesIn(text: string): number {
  const m = /T\d{2}:(\d{2})/.exec(text);
  return m ? Number(m[1]) : 0;
}

export type WarehouseTable = 'events' | RollupTable;

export class WarehouseLayout {
  readonly prefix: string;

  /** `prefix` is '' or ends with '/': the warehouse root inside the store. */
  constructor(prefix: string) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  tableDir(table: WarehouseTable): string {
    return `${this.prefix}${table}/`;
  }

  /** The default location of an hour; a replay moves it to a versioned one below it. */
  partitionPrefix(table: WarehouseTable, hour: Hour, version?: string): string {
    const p = hourPartition(hour);
    return `${this.tableDir(table)}dt=${p.dt}/hour=${p.hour}/${version ? `v=${version}/` : ''}`;
  }

  /**
   * Named after the first offset it holds (Secor's rule): a re-run of the same
   * range writes the same names, so it overwrites whatever a crashed run left.
   */
  dataFileName(topic: string, partition: number, firstOffset: number): string {
    return `${topic}-${partition}-${firstOffset}.parquet`;
  }

  /**
   * A compacted file (compaction/): `part-<n>.parquet` inside the compaction's
   * own `v=<id>/` location. It never matches `dataFileName`'s pattern, so a
   * late file added to the same location later cannot collide with it.
   */
  compactedFileName(n: number): string {
    return `part-${n}.parquet`;
  }

  /** Whether a file name (no directory) is one compaction wrote. */
  isCompactedFileName(name: string): boolean {
    return /^part-\d+\.parquet$/.test(name);
  }

  /** Parses a data file name back; null for anything else. */
  parseDataFileName(name: string): { topic: string; partition: number; firstOffset: number } | null {
    const m = /^(.+)-(\d+)-(\d+)\.parquet$/.exec(name);
    return m ? { topic: m[1] as string, partition: Number(m[2]), firstOffset: Number(m[3]) } : null;
  }

  /** The dedup index of a data file (same name, under `_loader/dedup/`). */
  indexKeyOf(dataKey: string): string {
    return `${this.dedupPrefixOf(dataKey.slice(0, dataKey.lastIndexOf('/') + 1))}${dataKey
      .slice(dataKey.lastIndexOf('/') + 1)
      .replace(/\.parquet$/, '.idx')}`;
  }

  /** Where the indexes of the data files under `dataPrefix` live. */
  dedupPrefixOf(dataPrefix: string): string {
    return `${this.prefix}_loader/dedup/${dataPrefix.slice(this.prefix.length)}`;
  }

  rollupKey(table: RollupTable, hour: Hour): string {
    return `${this.partitionPrefix(table, hour)}${table}.parquet`;
  }

  /** A replayed hour's current location, when it is not the default. */
  locationStateKey(hour: Hour): string {
    const p = hourPartition(hour);
    return `${this.prefix}_loader/locations/events/dt=${p.dt}/hour=${p.hour}.json`;
  }

  /** Keys written by a run that has not committed yet: a re-run deletes the ones it does not overwrite. */
  pendingKey(topic: string): string {
    return `${this.prefix}_loader/pending/${topic}.json`;
  }

  /** The loader's own record of what is loaded: the offsets of the last committed run (the commit point). */
  offsetsKey(topic: string): string {
    return `${this.prefix}_loader/offsets/${topic}.json`;
  }

  /** Hours a load touched since their last compaction: the candidates of the next one. */
  compactionQueueKey(topic: string): string {
    return `${this.prefix}_loader/compaction/${topic}.json`;
  }

  /** The hour of a key under a table's `dt=…/hour=…/`, or null. */
  hourOfKey(key: string): Hour | null {
    const m = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key.slice(this.prefix.length));
    return m ? Math.floor(Date.parse(`${m[1]}T${m[2]}:00:00Z`) / HOUR_MS) : null;
  }

  /** A scaled-out slot's hours whose rollups it left to its next load (rollup lock busy too long). */
  rollupsDueKey(slot: string): string {
    return `${this.prefix}_loader/rollups-due/${slot}.json`;
  }

  lockKey(topic: string): string {
    return `${this.prefix}_loader/lock/${topic}.json`;
  }

  lastRunKey(topic: string): string {
    return `${this.prefix}_loader/runs/${topic}/last.json`;
  }

  loadedHoursKey(topic: string): string {
    return `${this.prefix}_loader/runs/${topic}/hours.json`;
  }

  deadLetterKey(topic: string, partition: number, firstOffset: number): string {
    return `${this.prefix}_loader/dead-letter/${topic}-${partition}-${firstOffset}.ndjson`;
  }
}
