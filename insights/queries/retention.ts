/**
 * @module Retention cohorts: visitors grouped by the day they were first seen
 * in the range, and how many of them came back on each later day. Any event
 * counts as activity; with `event`, only that event does (cohort and return).
 * visitors_hourly answers the plain case, dimensions_hourly (dimension
 * `event`) the case of one event.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import { DAY_MS, daysTouched, type HourRange } from '../hour-range.ts';
import { identifier, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext, QuerySource } from './query-context.ts';
import { countOf, dayOf } from './row-values.ts';

export interface RetentionInput {
  projectId: string;
  /** Whole UTC days. */
  range: HourRange;
  event: string | null;
  audience?: Audience;
}

export interface RetentionCohort {
  /** First-seen day, YYYY-MM-DD. */
  day: string;
  visitors: number;
  /** Index n: visitors of the cohort active n days later (index 0 is the cohort itself). */
  returning: number[];
}

export interface RetentionAnswer {
  event: string | null;
  cohorts: RetentionCohort[];
}

export function buildRetention(input: RetentionInput, ctx: QueryContext): BuiltQuery<RetentionAnswer> {
  const where = partitionFilter(input.projectId, input.range);
  const rollups = ctx.rollups && answersFromRollups(input.audience);
  const source: QuerySource = rollups ? 'rollup' : 'raw';
  let activity: Statement;
  if (rollups && input.event === null) {
    activity = sql`SELECT DISTINCT visitor_id, dt FROM ${identifier(ctx.tables.visitorsHourly)} WHERE ${where}`;
  } else if (rollups) {
    activity = sql`SELECT DISTINCT visitor_id, dt FROM ${identifier(ctx.tables.dimensionsHourly)} WHERE ${where} AND dimension = ${'event'} AND value = ${input.event}`;
  } else {
    activity = sql`SELECT DISTINCT visitor_id, dt FROM ${identifier(ctx.tables.events)} WHERE ${where}${audienceFilter(input.audience)}${input.event === null ? sql`` : sql` AND event = ${input.event}`}`;
  }
  // Day differences are taken in JS from the two dt strings: no date function to differ between engines.
  // The cohort is a window over each visitor's days: no join (see funnel.ts for why that matters on Hive).
  const statement = sql`SELECT cohort, dt, COUNT(*) AS visitors FROM (SELECT visitor_id, dt, MIN(dt) OVER (PARTITION BY visitor_id) AS cohort FROM (${activity}) a) d GROUP BY cohort, dt`;
  return { statement, source, read: (rows) => readRetention(rows, input) };
}

function readRetention(rows: Row[], input: RetentionInput): RetentionAnswer {
  const days = daysTouched(input.range);
  const active = new Map<string, number>();
  for (const row of rows) active.set(`${dayOf(row, 'cohort')}/${dayOf(row, 'dt')}`, countOf(row, 'visitors'));
  const cohorts = days.map((day, i) => {
    const start = Date.parse(`${day}T00:00:00Z`);
    // A cohort has one column per day left in the range, so later cohorts are shorter (a triangle).
    const returning = days
      .slice(i)
      .map((_, n) => active.get(`${day}/${new Date(start + n * DAY_MS).toISOString().slice(0, 10)}`) ?? 0);
    return { day, visitors: returning[0] ?? 0, returning };
  });
  return { event: input.event, cohorts };
}
