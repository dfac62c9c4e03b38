/**
 * @module What a load needs, passed in (never imported): the three ports, a
 * logger, and the settings that config.ts validated. The CLI, the scheduler,
 * the one-machine composition and the tests each build one of these.
 */
import type { EventBus, PartitionOffset } from '../shared/bus/bus.ts';
import type { Metastore } from '../shared/catalog/metastore.ts';
import type { Logger } from '../shared/logger.ts';
import type { ObjectStore } from '../shared/object-store/object-store.ts';
import type { WarehouseTableNames } from '../shared/warehouse.ts';
import { WarehouseLayout } from './layout.ts';
import type { HeldLock } from './object-store-lock.ts';
import type { EventRow } from './steps/map-event.ts';

export interface LoaderSettings {
  topic: string;
  /** Consumer group whose committed offsets mark what is loaded. */
  group: string;
  /** Warehouse root inside the store ('' or ending in '/'). */
  warehousePrefix: string;
  /** Catalog table names (the directories keep the logical names). */
  tables: WarehouseTableNames;
  /** A bucket spills to its own Parquet file at this many rows. */
  maxRowsPerFile: number;
  rowGroupSize: number;
  /** Sort each events file by project and time (pruning for per-project reads) at ~3x the conversion cost. */
  sortEvents: boolean;
  dedupHorizonHours: number;
  duckdbMemoryLimit: string;
  duckdbThreads: number;
  /** Local scratch space for NDJSON buckets, Parquet files before upload, DuckDB spills. */
  tempDir: string;
  lockTtlMs: number;
  /** Replay reads this far past the last replayed hour, for events that reached the bus late. */
  replayLateHours: number;
  /** Objects uploaded at once. */
  uploadConcurrency: number;
  /** Bus partitions read at once. */
  readConcurrency: number;
  /** NDJSON buckets converted to Parquet at once (DuckDB works beside the JavaScript thread). */
  convertConcurrency: number;
  /**
   * Threads that parse, map and serialise messages (parse/parse-pool.ts); 0: the loader's own
   * thread does it. Absent: 1. A load with a transform always uses its own thread.
   */
  parseThreads?: number;
  /** A cap on each parse thread's V8 heap (MB; resourceLimits): past it the thread dies and the load fails. */
  parseHeapMb?: number;
  /** Keep every consumed message in the raw archive (archive/); absent: on. */
  archive?: boolean;
  /** Closed hours rewritten into few large sorted files (compaction/); absent: the defaults. */
  compaction?: CompactionSettings;
  /**
   * Scaled out: how long a load waits for another process's rollups of an hour before it leaves
   * that hour's rollups to the slot's next load (scale-out/deferred-rollups.ts); absent: 2 minutes.
   */
  rollupLockWaitMs?: number;
}

export interface CompactionSettings {
  /** false: `loader compact` still works, but no load compacts on its own. */
  enabled: boolean;
  /** An hour is closed once every bus partition is loaded past its end plus this. */
  graceMinutes: number;
  /** A compacted file holds at most this many rows… */
  maxRowsPerFile: number;
  /** …and about this many bytes (the hour's files' total decides how many parts it gets). */
  maxFileBytes: number;
  /** Hours rewritten per pass (each its own swap); the rest wait for the next pass. */
  maxHoursPerPass: number;
}

export const DEFAULT_COMPACTION: CompactionSettings = {
  enabled: true,
  graceMinutes: 10,
  maxRowsPerFile: 1_000_000,
  maxFileBytes: 128 * 1024 * 1024,
  maxHoursPerPass: 48,
};

/**
 * Whether a load sorts each file it writes. With compaction on, an hour's hot
 * files live only until it closes and compaction sorts the whole hour then,
 * so they are written in bus order: the sort was ≈2–3× the conversion's CPU
 * and most of its memory (loader/README.md, "Memory"). `sortEvents` then
 * holds for every closed hour; with compaction off it holds for every file.
 */
export function hotFilesSorted(settings: Pick<LoaderSettings, 'sortEvents' | 'compaction'>): boolean {
  return settings.sortEvents && !(settings.compaction ?? DEFAULT_COMPACTION).enabled;
}

/** Where a test (or an operator chasing a bug) makes the loader die: SIGKILL, no cleanup. */
export const CRASH_POINTS = [
  'after-write',
  'after-upload',
  'after-register',
  'after-rollups',
  'after-commit',
  // A replay: after the first hour of its swap moved to the new location.
  'mid-swap',
  // Compaction: every compacted file uploaded, nothing swapped yet; then after its first hour's swap.
  'after-compact-write',
  'mid-compact-swap',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface LoadProgress {
  /** Called as messages are consumed: done so far of total in the planned ranges. */
  consumed(done: number, total: number): void;
  /** A step started (plan, consume, upload, register, rollups, commit). */
  step(name: string): void;
}

/**
 * What one load of a scaled-out loader (scale-out/) covers; absent: the whole
 * topic, under the topic's lock, as one loader always did. A slot's load
 * names its own state objects and lock, so processes never contend for them.
 */
export interface LoadScope {
  /** Names the state objects: `_loader/offsets/<state>.json`, pending, runs, compaction queue. */
  state: string;
  /** `_loader/lock/<lock>.json`, taken for the load. */
  lock: string;
  /** Held by the caller already (a scaled-out compaction holds every slot's lock): no lock is taken. */
  held?: HeldLock;
  /** The bus partitions this load reads; absent: all of them. */
  partitions?: readonly number[];
  /** A compaction's: the state of every slot, whose committed offsets together cover the topic. */
  slotStates?: readonly { state: string; topic: string; partition: number }[];
  /** A compaction's: every topic whose files share the hours (a pattern's); absent: `settings.topic`. */
  topics?: readonly string[];
  /** Moves the consumer group's offsets (through the live group member); absent: the bus's commit. */
  mirror?: (offsets: PartitionOffset[]) => Promise<void>;
  /** Rollups of an hour are recomputed under a per-hour lock, as several processes touch one hour. */
  hourLocks?: string;
}

export interface LoaderDeps {
  bus: EventBus;
  /** What this load covers (a scaled-out slot); absent: the whole topic. */
  scope?: LoadScope;
  /**
   * Applied to every mapped row before dedup and write; null drops the row.
   * The place a bug fix to the transform goes before a replay.
   */
  transform?: (row: EventRow) => EventRow | null;
  store: ObjectStore;
  /** Only the metastore half: the loader registers, it never queries. */
  catalog: Metastore;
  logger: Logger;
  settings: LoaderSettings;
  progress?: LoadProgress;
  crashAt?: CrashPoint;
  now?: () => number;
}

export function crashPointFromEnv(env: NodeJS.ProcessEnv): CrashPoint | undefined {
  const value = env.LOADER_CRASH_AT;
  return value && (CRASH_POINTS as readonly string[]).includes(value) ? (value as CrashPoint) : undefined;
}

export function crashIfAt(deps: LoaderDeps, point: CrashPoint): void {
  if (deps.crashAt === point) {
    deps.logger.warn({ point }, 'LOADER_CRASH_AT: killing this process now');
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The name of this load's state objects: its slot's, or the topic's. */
export function stateNameOf(deps: Pick<LoaderDeps, 'settings' | 'scope'>): string {
  return deps.scope?.state ?? deps.settings.topic;
}

export function layoutOf(deps: Pick<LoaderDeps, 'settings'>): WarehouseLayout {
  return new WarehouseLayout(deps.settings.warehousePrefix);
}
