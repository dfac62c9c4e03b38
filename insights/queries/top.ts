/**
 * @module Top N values of one dimension (a column from a whitelist, or a key
 * of the JSON `properties`), by distinct visitors, then events. A whitelisted
 * column over all events, and page_path of page views, come from
 * dimensions_hourly (per hour, value and visitor, so distinct visitors stay
 * exact over any range); properties and other event filters read raw events.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { RollupDimension } from '../../shared/warehouse.ts';
import type { HourRange } from '../hour-range.ts';
import { TOP_COLUMNS, type TopDimension } from '../params.ts';
import { identifier, integerLiteral, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf, stringOf } from './row-values.ts';
import { PAGEVIEW_EVENT } from './summary.ts';

export interface TopInput {
  projectId: string;
  range: HourRange;
  dimension: TopDimension;
  /** The property key when dimension is 'property', validated against PROPERTY_KEY_PATTERN. */
  property: string | null;
  event: string | null;
  limit: number;
  audience?: Audience;
}

export interface TopRow {
  value: string;
  events: number;
  visitors: number;
}

export interface TopAnswer {
  dimension: TopDimension;
  property: string | null;
  event: string | null;
  rows: TopRow[];
}

function dimensionExpression(input: TopInput, ctx: QueryContext): Statement {
  if (input.dimension === 'property') {
    if (input.property === null) throw new Error('a property dimension needs a property key');
    return ctx.dialect.jsonString(identifier('properties'), `$.${input.property}`);
  }
  // The whitelist is the only road from a request to a column name.
  const column = TOP_COLUMNS.find((c) => c === input.dimension);
  if (column === undefined) throw new Error(`not a top dimension: ${input.dimension}`);
  return identifier(column);
}

/** The dimensions_hourly dimension that answers this request, or null when only raw rows can. */
function rollupDimension(input: Pick<TopInput, 'dimension' | 'event'>): RollupDimension | null {
  if (input.dimension === 'property') return null;
  const column = TOP_COLUMNS.find((c) => c === input.dimension);
  if (column === undefined) throw new Error(`not a top dimension: ${input.dimension}`);
  if (input.event === null) return column;
  if (input.dimension === 'page_path' && input.event === PAGEVIEW_EVENT) return 'pageview_path';
  return null;
}

export function buildTop(input: TopInput, ctx: QueryContext): BuiltQuery<TopAnswer> {
  const where = partitionFilter(input.projectId, input.range);
  const order = sql`ORDER BY visitors DESC, events DESC, dim_value ASC LIMIT ${integerLiteral(input.limit)}`;
  // Rollups count people only, unfiltered: any audience choice reads raw rows.
  const dimension = ctx.rollups && answersFromRollups(input.audience) ? rollupDimension(input) : null;
  let statement: Statement;
  if (dimension !== null) {
    // NULL and empty values are left out when the rollup is written.
    statement = sql`SELECT dim_value AS dim_value, SUM(events) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM (SELECT value AS dim_value, visitor_id, events FROM ${identifier(ctx.tables.dimensionsHourly)} WHERE ${where} AND dimension = ${dimension}) t GROUP BY dim_value ${order}`;
  } else {
    const eventFilter = input.event === null ? sql`` : sql` AND event = ${input.event}`;
    // The value is computed once in a subquery: grouping by a repeated expression with its own bound
    // parameter is not "the same expression" to every engine.
    statement = sql`SELECT dim_value AS dim_value, COUNT(*) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM (SELECT ${dimensionExpression(input, ctx)} AS dim_value, visitor_id FROM ${identifier(ctx.tables.events)} WHERE ${where}${audienceFilter(input.audience)}${eventFilter}) t WHERE dim_value IS NOT NULL AND dim_value <> ${''} GROUP BY dim_value ${order}`;
  }
  return {
    statement,
    source: dimension === null ? 'raw' : 'rollup',
    read: (rows: Row[]) => ({
      dimension: input.dimension,
      property: input.property,
      event: input.event,
      rows: rows.map((row) => ({
        value: stringOf(row, 'dim_value') ?? '',
        events: countOf(row, 'events'),
        visitors: countOf(row, 'visitors'),
      })),
    }),
  };
}
