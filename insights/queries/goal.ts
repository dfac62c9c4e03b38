/**
 * @module A goal: a named event, or a page view of one path, as a conversion.
 * Of the visitors in the range (and the audience), how many reached it at
 * least once, and how often it happened. One scan of the raw events; the rate
 * is computed in JS from the two integer counts, so both engines agree.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { HourRange } from '../hour-range.ts';
import { identifier, type Statement, sql } from '../sql/statement.ts';
import { type Audience, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf } from './row-values.ts';
import { PAGEVIEW_EVENT } from './summary.ts';

export type Goal = { event: string } | { page: string };

export interface GoalInput {
  projectId: string;
  range: HourRange;
  goal: Goal;
  audience?: Audience;
}

export interface GoalAnswer {
  goal: Goal;
  /** Distinct visitors in the range. */
  visitors: number;
  /** Of them, those who reached the goal. */
  converted: number;
  /** Events that were the goal (a visitor may reach it more than once). */
  completions: number;
  /** converted / visitors, 0..1 to 4 places. */
  conversionRate: number;
}

function matches(goal: Goal): Statement {
  return 'event' in goal
    ? sql`event = ${goal.event}`
    : sql`event = ${PAGEVIEW_EVENT} AND page_path = ${goal.page}`;
}

export function buildGoal(input: GoalInput, ctx: QueryContext): BuiltQuery<GoalAnswer> {
  const hit = matches(input.goal);
  const statement = sql`SELECT COUNT(DISTINCT visitor_id) AS visitors, COUNT(DISTINCT CASE WHEN ${hit} THEN visitor_id END) AS converted, SUM(CASE WHEN ${hit} THEN 1 ELSE 0 END) AS completions FROM ${identifier(ctx.tables.events)} WHERE ${partitionFilter(input.projectId, input.range)}${audienceFilter(input.audience)}`;
  return {
    statement,
    source: 'raw',
    read: (rows: Row[]) => {
      const row = rows[0] ?? {};
      const visitors = countOf(row, 'visitors');
      const converted = countOf(row, 'converted');
      return {
        goal: input.goal,
        visitors,
        converted,
        completions: countOf(row, 'completions'),
        conversionRate: visitors === 0 ? 0 : Math.round((converted / visitors) * 10_000) / 10_000,
      };
    },
  };
}
