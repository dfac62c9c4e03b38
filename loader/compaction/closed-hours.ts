/**
 * @module Which hours are closed: an hour is closed once every partition of
 * the bus is loaded past its end plus a grace period (for edges that flush
 * late), and the clock has passed that instant too. "Loaded past T" means
 * the committed offset is at or beyond the first message stamped T or later
 * (`offsetsForTime`; an idle partition answers its high watermark, which a
 * fully loaded partition has reached). The test is monotonic in T, so a
 * binary search over the candidates asks the bus O(log n) times.
 */
import { HOUR_MS, type Hour } from '../layout.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import type { LoaderState } from '../loader-state.ts';
import { committedOffsets } from '../steps/plan.ts';

export async function closedHours(
  deps: LoaderDeps,
  state: LoaderState,
  candidates: readonly Hour[],
  graceMinutes: number,
): Promise<Hour[]> {
  const topics = deps.scope?.topics;
  if (!topics) return closedOnTopic(deps, state, candidates, graceMinutes);
  // Scaled out over a pattern, an hour's files come from every topic: closed once closed on each.
  let closed = [...candidates];
  for (const topic of topics) {
    closed = await closedOnTopic(
      { ...deps, settings: { ...deps.settings, topic } },
      state,
      closed,
      graceMinutes,
    );
  }
  return closed;
}

async function closedOnTopic(
  deps: LoaderDeps,
  state: LoaderState,
  candidates: readonly Hour[],
  graceMinutes: number,
): Promise<Hour[]> {
  const hours = [...candidates].sort((a, b) => a - b);
  if (hours.length === 0) return [];
  const now = (deps.now ?? Date.now)();
  const [marks, committed] = await Promise.all([
    deps.bus.watermarks(deps.settings.topic),
    committedOffsets(deps, state),
  ]);
  const done = new Map(committed.map((c) => [c.partition, c.offset]));
  const isClosed = async (hour: Hour): Promise<boolean> => {
    const closesAt = (hour + 1) * HOUR_MS + graceMinutes * 60_000;
    if (now < closesAt) return false;
    const firstAfter = await deps.bus.offsetsForTime(deps.settings.topic, closesAt);
    return marks.every((m) => {
      const at = firstAfter.find((o) => o.partition === m.partition)?.offset ?? m.high;
      return Math.max(done.get(m.partition) ?? m.low, m.low) >= at;
    });
  };
  // The last closed index: every hour before a closed one is closed too.
  let lo = 0;
  let hi = hours.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (await isClosed(hours[mid] as Hour)) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return hours.slice(0, last + 1);
}
