/**
 * @module Ranges of whole UTC hours, the grain of the warehouse partitions
 * (`dt=YYYY-MM-DD/hour=HH`, the hour an event was received). Every query's
 * range is one of these, so it maps exactly onto partitions.
 */
import { partitionOf } from '../shared/warehouse.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** [from, to): both on an hour boundary, `to` exclusive. */
export interface HourRange {
  from: Date;
  to: Date;
}

export function floorToHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function ceilToHour(ms: number): number {
  return Math.ceil(ms / HOUR_MS) * HOUR_MS;
}

/** The range of the same length just before this one (the "previous period"). */
export function previousRange(range: HourRange): HourRange {
  const length = range.to.getTime() - range.from.getTime();
  return { from: new Date(range.from.getTime() - length), to: range.from };
}

/** Widened to whole UTC days. */
export function toWholeDays(range: HourRange): HourRange {
  return {
    from: new Date(Math.floor(range.from.getTime() / DAY_MS) * DAY_MS),
    to: new Date(Math.ceil(range.to.getTime() / DAY_MS) * DAY_MS),
  };
}

/** Partition values bounding the range: first and last `dt`, and the (dt, hour) of each end. */
export function partitionBounds(range: HourRange): {
  firstDt: string;
  lastDt: string;
  from: { dt: string; hour: string };
  to: { dt: string; hour: string };
} {
  const from = partitionOf(range.from);
  const to = partitionOf(range.to);
  return { firstDt: from.dt, lastDt: partitionOf(new Date(range.to.getTime() - HOUR_MS)).dt, from, to };
}

/** Every hour start in the range, oldest first. */
export function hourStarts(range: HourRange): Date[] {
  const out: Date[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime(); t += HOUR_MS) out.push(new Date(t));
  return out;
}

/** Every UTC day (YYYY-MM-DD) the range touches, oldest first. */
export function daysTouched(range: HourRange): string[] {
  const out: string[] = [];
  const last = range.to.getTime() - HOUR_MS;
  for (let t = Math.floor(range.from.getTime() / DAY_MS) * DAY_MS; t <= last; t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
