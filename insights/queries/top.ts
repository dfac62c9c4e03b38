/**
 * @module Top N values of one dimension (a column from a whitelist, or a key
 * of the JSON `properties`), by distinct visitors, then events. Distinct
 * visitors per value do not add up across hours, so this reads raw events.
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { HourRange } from '../hour-range.ts';
import { TOP_COLUMNS, type TopDimension } from '../params.ts';
import { identifier, integerLiteral, type Statement, sql } from '../sql/statement.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf, stringOf } from './row-values.ts';

export interface TopInput {
  projectId: string;
  range: HourRange;
  dimension: TopDimension;
  /** The property key when dimension is 'property', validated against PROPERTY_KEY_PATTERN. */
  property: string | null;
  event: string | null;
  limit: number;
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

export function buildTop(input: TopInput, ctx: QueryContext): BuiltQuery<TopAnswer> {
  const where = partitionFilter(input.projectId, input.range);
  const eventFilter = input.event === null ? sql`` : sql` AND event = ${input.event}`;
  // The value is computed once in a subquery: grouping by a repeated expression with its own bound
  // parameter is not "the same expression" to every engine.
  const statement = sql`SELECT dim_value AS dim_value, COUNT(*) AS events, COUNT(DISTINCT visitor_id) AS visitors FROM (SELECT ${dimensionExpression(input, ctx)} AS dim_value, visitor_id FROM ${identifier(ctx.tables.events)} WHERE ${where}${eventFilter}) t WHERE dim_value IS NOT NULL AND dim_value <> ${''} GROUP BY dim_value ORDER BY visitors DESC, events DESC, dim_value ASC LIMIT ${integerLiteral(input.limit)}`;
  return {
    statement,
    source: 'raw',
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
