/**
 * @module The loader's bookkeeping objects in the store (under `_loader/`):
 * the pending manifest of an uncommitted run, the current location of
 * replayed hours, and the last run's result for `loader status`. Small JSON
 * objects, each written whole (a put is atomic on S3 and on the directory
 * store).
 */
import type { PartitionOffset } from '../shared/bus/bus.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import type { Hour, WarehouseLayout } from './layout.ts';

async function readJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  const bytes = await store.get(key);
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
}

async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value, null, 1), { contentType: 'application/json' });
}

/**
 * Everything an unfinished load wrote or is about to write: data files, their
 * indexes, dead letters. Written before the first upload, removed after the
 * load's last step; whatever a crash leaves is settled by the next load
 * (repair.ts) from what this record says.
 */
export interface PendingManifest {
  runId: string;
  /** Absent in manifests written before replays had one: a run. A compaction settles as a replay does. */
  command?: 'run' | 'replay' | 'compact' | 'import';
  keys: string[];
  /** Hours those keys belong to: their rollups must be recomputed when stale keys are removed. */
  hours: Hour[];
  /**
   * A run's commit point: the offsets it commits. Once the committed offsets
   * record carries this run's id, the run is done and its keys are kept.
   */
  ends?: PartitionOffset[];
  /**
   * A replay's (or a compaction's) swap: each hour's old and new location.
   * `swapping` is set once every new file is uploaded; from then on a
   * crashed replay or compaction is finished by the next load instead of
   * being undone.
   */
  swaps?: { hour: Hour; from: string; to: string }[];
  phase?: 'uploading' | 'swapping';
}

/** What is loaded: per partition the next offset to read, and the run that committed it. */
export interface CommittedOffsets {
  runId: string;
  committedAt: string;
  offsets: PartitionOffset[];
}

export interface RunResult {
  runId: string;
  command: 'run' | 'replay' | 'import';
  ok: boolean;
  /** What this run found of a crashed load and settled first (repair.ts), if anything. */
  repaired?: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  events: number;
  duplicates: number;
  malformed: number;
  files: number;
  bytes: number;
  hours: string[];
  /** Seconds spent in each step, in order: where a slow run spends its time. */
  steps: Record<string, number>;
  /** Per partition, the offset committed (the next to read). */
  committed: { partition: number; offset: number }[];
  /** Scaled out: hours whose rollups this load left to the slot's next load (their lock stayed busy). */
  deferredRollups?: string[];
  /** A run's raw archive (archive/): objects and messages written, compressed bytes. */
  archived?: { objects: number; messages: number; bytes: number };
  error?: string;
}

/** A run's result before any step ran: counters at zero, not ok until it finishes. */
export function newRunResult(
  runId: string,
  command: RunResult['command'],
  startedMs: number,
  hours: string[],
): RunResult {
  return {
    runId,
    command,
    ok: false,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: '',
    seconds: 0,
    events: 0,
    duplicates: 0,
    malformed: 0,
    files: 0,
    bytes: 0,
    hours,
    steps: {},
    committed: [],
  };
}

export interface HoursLoaded {
  /** The latest hour that received events, as `YYYY-MM-DDTHH`. */
  lastHour: string | null;
}

export class LoaderState {
  readonly #store: ObjectStore;
  readonly #layout: WarehouseLayout;
  readonly #topic: string;

  constructor(store: ObjectStore, layout: WarehouseLayout, topic: string) {
    this.#store = store;
    this.#layout = layout;
    this.#topic = topic;
  }

  pending(): Promise<PendingManifest | null> {
    return readJson(this.#store, this.#layout.pendingKey(this.#topic));
  }

  writePending(manifest: PendingManifest): Promise<void> {
    return writeJson(this.#store, this.#layout.pendingKey(this.#topic), manifest);
  }

  async clearPending(): Promise<void> {
    await this.#store.delete([this.#layout.pendingKey(this.#topic)]);
  }

  committed(): Promise<CommittedOffsets | null> {
    return readJson(this.#store, this.#layout.offsetsKey(this.#topic));
  }

  /** The commit point of a run: one whole-object put, so it happened or it did not. */
  writeCommitted(value: CommittedOffsets): Promise<void> {
    return writeJson(this.#store, this.#layout.offsetsKey(this.#topic), value);
  }

  /** The data prefix of an hour of `events`: its replayed version, or the default. */
  async eventsLocation(hour: Hour): Promise<string> {
    const state = await readJson<{ prefix: string }>(this.#store, this.#layout.locationStateKey(hour));
    return state?.prefix ?? this.#layout.partitionPrefix('events', hour);
  }

  /** eventsLocation, each hour read once: for a load, during which no hour moves (a replay's swap comes after). */
  eventsLocations(): (hour: Hour) => Promise<string> {
    const seen = new Map<Hour, Promise<string>>();
    return (hour) => {
      let prefix = seen.get(hour);
      if (!prefix) {
        prefix = this.eventsLocation(hour);
        seen.set(hour, prefix);
      }
      return prefix;
    };
  }

  setEventsLocation(hour: Hour, prefix: string): Promise<void> {
    return writeJson(this.#store, this.#layout.locationStateKey(hour), { prefix });
  }

  lastRun(): Promise<RunResult | null> {
    return readJson(this.#store, this.#layout.lastRunKey(this.#topic));
  }

  writeLastRun(result: RunResult): Promise<void> {
    return writeJson(this.#store, this.#layout.lastRunKey(this.#topic), result);
  }

  hoursLoaded(): Promise<HoursLoaded | null> {
    return readJson(this.#store, this.#layout.loadedHoursKey(this.#topic));
  }

  writeHoursLoaded(value: HoursLoaded): Promise<void> {
    return writeJson(this.#store, this.#layout.loadedHoursKey(this.#topic), value);
  }
}
