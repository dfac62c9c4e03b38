/**
 * @module Ordered funnels. A visitor enters at their first step-1 event in the
 * range; step k counts when the visitor's earliest step-k event comes after
 * their step k-1 and within the window of entering. Taking the earliest
 * occurrence at each step is optimal for that entry, so no visitor is missed
 * who could have completed a step. Each step is one window function over the
 * visitor's events (no self-join: one scan, and no map-join task, which
 * HiveServer2 runs in a child JVM that a bare install lacks). The scan reads
 * event_times_hourly (each visitor's distinct times of each event, which is
 * all a funnel looks at), or the raw events when rollups are off.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { HourRange } from '../hour-range.ts';
import { identifier, integerLiteral, joinSql, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf } from './row-values.ts';

export interface FunnelInput {
  projectId: string;
  range: HourRange;
  steps: string[];
  windowSeconds: number;
  audience?: Audience;
}

export interface FunnelStep {
  event: string;
  visitors: number;
  /** Share of the previous step's visitors who reached this one (1 for a non-empty first step). */
  conversion: number;
  /** Share of the first step's visitors who reached this one. */
  conversionFromStart: number;
}

export interface FunnelAnswer {
  windowSeconds: number;
  steps: FunnelStep[];
}

export function buildFunnel(input: FunnelInput, ctx: QueryContext): BuiltQuery<FunnelAnswer> {
  const { steps } = input;
  if (steps.length < 2) throw new Error('a funnel needs two steps');
  const t = (k: number) => identifier(`t${k}`);
  const epoch = (column: Statement) => ctx.dialect.epochSeconds(column);
  const distinctSteps = [...new Set(steps)];
  // Rollups count people only, unfiltered: any audience choice reads raw rows.
  const rollups = ctx.rollups && answersFromRollups(input.audience);
  const ctes: Statement[] = [
    sql`s0 AS (SELECT visitor_id, event, event_time FROM ${identifier(rollups ? ctx.tables.eventTimesHourly : ctx.tables.events)} WHERE ${partitionFilter(input.projectId, input.range)}${rollups ? sql`` : audienceFilter(input.audience)} AND event IN (${joinSql(
      distinctSteps.map((s) => sql`${s}`),
      ', ',
    )}))`,
  ];
  steps.forEach((step, i) => {
    const k = i + 1;
    const carried = joinSql(
      [sql`visitor_id, event, event_time`, ...Array.from({ length: i }, (_, j) => t(j + 1))],
      ', ',
    );
    // Strictly after the previous step (so a repeated step never matches the same event), and within
    // the window of entering, counted in whole seconds on both engines.
    const condition =
      k === 1
        ? sql`event = ${step}`
        : sql`event = ${step} AND event_time > ${t(k - 1)} AND ${epoch(identifier('event_time'))} - ${epoch(t(1))} <= ${integerLiteral(input.windowSeconds)}`;
    ctes.push(
      sql`${identifier(`s${k}`)} AS (SELECT ${carried}, MIN(CASE WHEN ${condition} THEN event_time END) OVER (PARTITION BY visitor_id) AS ${t(k)} FROM ${identifier(`s${k - 1}`)})`,
    );
  });
  const perVisitor = joinSql(
    steps.map((_, i) => sql`MIN(${t(i + 1)}) AS ${t(i + 1)}`),
    ', ',
  );
  const counts = joinSql(
    steps.map((_, i) => sql`COUNT(${t(i + 1)}) AS ${identifier(`step_${i + 1}`)}`),
    ', ',
  );
  const statement = sql`WITH ${joinSql(ctes, ', ')} SELECT ${counts} FROM (SELECT visitor_id, ${perVisitor} FROM ${identifier(`s${steps.length}`)} GROUP BY visitor_id) v`;
  return { statement, source: rollups ? 'rollup' : 'raw', read: (rows) => readFunnel(rows, input) };
}

function readFunnel(rows: Row[], input: FunnelInput): FunnelAnswer {
  const row = rows[0] ?? {};
  const reached = input.steps.map((_, i) => countOf(row, `step_${i + 1}`));
  const first = reached[0] ?? 0;
  const steps = input.steps.map((event, i) => {
    const visitors = reached[i] ?? 0;
    const previous = i === 0 ? visitors : (reached[i - 1] ?? 0);
    return {
      event,
      visitors,
      conversion: ratio(visitors, previous),
      conversionFromStart: ratio(visitors, first),
    };
  });
  return { windowSeconds: input.windowSeconds, steps };
}

/** 0..1, to 4 places (a percentage with two decimals); 0 when nobody reached the step before. */
function ratio(part: number, whole: number): number {
  if (whole === 0) return 0;
  return Math.round((part / whole) * 10_000) / 10_000;
}
