/**
 * @module The few statistics the soak reports and judges by: quantiles
 * (nearest rank, so a reported p95 is a latency some request really had) and
 * the split of a run's samples into thirds (warm-up, middle, last).
 */

/** The q-quantile (0..1) by nearest rank; NaN when there is nothing to rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Three consecutive slices of (nearly) equal length; the remainder goes to the first (the warm-up). */
export function thirds<T>(items: readonly T[]): [T[], T[], T[]] {
  const size = Math.floor(items.length / 3);
  const warm = items.length - 2 * size;
  return [items.slice(0, warm), items.slice(warm, warm + size), items.slice(warm + size)];
}
