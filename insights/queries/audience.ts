/**
 * @module Whose events a query counts: the dashboard's filters (a column of
 * the top-N whitelist equal to a value, all of them at once) and whether bots
 * count. The clause is ANDed after the partition filter of every builder;
 * values are bound, columns come only from the whitelist. The rollups hold
 * people only and no filter, so a query with filters or with bots reads raw
 * events (`answersFromRollups`).
 */
import { TOP_COLUMNS, type TopColumn } from '../params.ts';
import { identifier, joinSql, type Statement, sql } from '../sql/statement.ts';

export interface EventFilter {
  dimension: TopColumn;
  value: string;
}

export interface Audience {
  filters: readonly EventFilter[];
  /** Count events whose user agent is a bot's (`is_bot`); false, the default, leaves them out. */
  includeBots: boolean;
}

/** Everyone but bots, unfiltered: what the rollups hold. */
const PEOPLE: Audience = { filters: [], includeBots: false };

/** ` AND …` narrowing the events to the audience (empty for bots-included and no filter). */
export function audienceFilter(audience: Audience = PEOPLE): Statement {
  const parts: Statement[] = [];
  // NULL is "not a bot": files written before the column existed, and events without a user agent.
  if (!audience.includeBots) parts.push(sql`(is_bot IS NULL OR is_bot = false)`);
  for (const filter of audience.filters) {
    const column = TOP_COLUMNS.find((c) => c === filter.dimension);
    if (column === undefined) throw new Error(`not a filter dimension: ${filter.dimension}`);
    parts.push(sql`${identifier(column)} = ${filter.value}`);
  }
  return parts.length === 0 ? sql`` : sql` AND ${joinSql(parts, ' AND ')}`;
}

/** The rollups are computed over people with no filter: only then may they answer. */
export function answersFromRollups(audience: Audience = PEOPLE): boolean {
  return !audience.includeBots && audience.filters.length === 0;
}
