/**
 * @module Where a scaled-out loader keeps its state (loader/README.md,
 * "Scale-out"). A slot is one partition number, across every topic the
 * loaders consume: its lock is `_loader/lock/<group>/p<N>.json`, and each
 * topic's state in it (offsets record, pending manifest, last run,
 * compaction queue) is named `<group>/p<N>/<topic>`. Processes never share
 * a state object, so the single loader's repair rules apply per slot as
 * they are.
 */

/** The lock of slot `partition`: one process loads it at a time. */
export function slotLockName(group: string, partition: number): string {
  return `${group}/p${partition}`;
}

/** The state objects of one topic's partition in slot `partition`. */
export function slotStateName(group: string, partition: number, topic: string): string {
  return `${group}/p${partition}/${topic}`;
}

/** A scaled-out compaction's own pending manifest (it holds every slot's lock while it works). */
export function compactionStateName(group: string): string {
  return `${group}/compaction`;
}

/** The per-hour rollup locks: `_loader/lock/<group>/hours/<YYYY-MM-DDTHH>.json`. */
export function hourLocksName(group: string): string {
  return `${group}/hours`;
}
