/**
 * @module Events and distinct visitors per hour or per day, from the rollups:
 * visitors_hourly for all events, events_hourly for one event per hour (that
 * hour's distinct visitors are exact as they are), dimensions_hourly for one
 * event per day (its visitor ids, counted distinct over the day).
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import { daysTouched, type HourRange, hourStarts } from '../hour-range.ts';
import { identifier, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext, QuerySource } from './query-context.ts';
import { countOf, dayOf, hourOf } from './row-values.ts';

export interface TimeseriesInput {
  projectId: string;
  range: HourRange;
  interval: 'hour' | 'day';
  event: string | null;
  /** Filters and bots; the default (people, unfiltered) is what the rollups hold. */
  audience?: Audience;
}

export interface TimeseriesPoint {
  /** Start of the bucket, ISO 8601 UTC. */
  time: string;
  events: number;
  visitors: number;
}

export interface TimeseriesAnswer {
  interval: 'hour' | 'day';
  event: string | null;
  points: TimeseriesPoint[];
}

export function buildTimeseries(input: TimeseriesInput, ctx: QueryContext): BuiltQuery<TimeseriesAnswer> {
  const { projectId, range, interval, event } = input;
  const where = partitionFilter(projectId, range);
  const rollups = ctx.rollups && answersFromRollups(input.audience);
  const groupBy = interval === 'hour' ? sql`dt, hour` : sql`dt`;
  const select = interval === 'hour' ? sql`dt AS dt, hour AS hour` : sql`dt AS dt`;
  let statement: Statement;
  let source: QuerySource = 'rollup';
  if (rollups && event === null) {
    // One row per visitor and hour: events add up, visitors are counted distinct over any range.
    statement = sql`SELECT ${select}, SUM(events) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM ${identifier(ctx.tables.visitorsHourly)} WHERE ${where} GROUP BY ${groupBy}`;
  } else if (rollups && interval === 'hour') {
    // One row per event and hour: that hour's distinct visitors are exact as they are.
    statement = sql`SELECT ${select}, SUM(events) AS events, SUM(visitors) AS visitors FROM ${identifier(ctx.tables.eventsHourly)} WHERE ${where} AND event = ${event} GROUP BY ${groupBy}`;
  } else if (rollups) {
    // One row per event, visitor and hour: visitors are counted distinct over the day.
    statement = sql`SELECT ${select}, SUM(events) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM ${identifier(ctx.tables.dimensionsHourly)} WHERE ${where} AND dimension = ${'event'} AND value = ${event} GROUP BY ${groupBy}`;
  } else {
    source = 'raw';
    const eventFilter = event === null ? sql`` : sql` AND event = ${event}`;
    statement = sql`SELECT ${select}, COUNT(*) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM ${identifier(ctx.tables.events)} WHERE ${where}${audienceFilter(input.audience)}${eventFilter} GROUP BY ${groupBy}`;
  }
  return { statement, source, read: (rows) => readTimeseries(rows, input) };
}

function readTimeseries(rows: Row[], input: TimeseriesInput): TimeseriesAnswer {
  const byBucket = new Map<string, { events: number; visitors: number }>();
  for (const row of rows) {
    const key = input.interval === 'hour' ? `${dayOf(row, 'dt')}T${hourOf(row, 'hour')}` : dayOf(row, 'dt');
    byBucket.set(key, { events: countOf(row, 'events'), visitors: countOf(row, 'visitors') });
  }
  // Every bucket of the range appears, empty ones as zeros, so charts need no gap logic.
  const starts =
    input.interval === 'hour'
      ? hourStarts(input.range)
      : daysTouched(input.range).map((d) => new Date(`${d}T00:00:00Z`));
  const points = starts.map((start) => {
    const iso = start.toISOString();
    const key = input.interval === 'hour' ? iso.slice(0, 13) : iso.slice(0, 10);
    const counts = byBucket.get(key) ?? { events: 0, visitors: 0 };
    return { time: iso, ...counts };
  });
  return { interval: input.interval, event: input.event, points };
}
