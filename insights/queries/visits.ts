/**
 * @module Top values per visit (session): where visits came from (`source`),
 * the page they started on (`entry_page`) and the page they left from
 * (`exit_page`). Sessions are cut as in the summary (more than 30 minutes
 * between two events of a visitor); a visit counts here when it has a page
 * view. Its source is the referrer host of its first page view, unless that
 * is the page's own host (internal navigation, e.g. a tab reopened after the
 * session timed out) or there is none: then it is Direct / None, answered as
 * `value: null`. Windows over each visitor's rows, no join (see funnel.ts).
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import type { HourRange } from '../hour-range.ts';
import type { VisitDimension } from '../params.ts';
import { identifier, integerLiteral, sql } from '../sql/statement.ts';
import { type Audience, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf, stringOf } from './row-values.ts';
import { PAGEVIEW_EVENT, SESSION_GAP_SECONDS } from './summary.ts';

/**
 * The host of an absolute URL (group 1), the same pattern the loader uses for
 * `referrer_host`, bound as a parameter; both engines' regexp_extract read it
 * alike and answer '' when it does not match.
 */
const URL_HOST_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)';

export interface VisitsInput {
  projectId: string;
  range: HourRange;
  dimension: VisitDimension;
  limit: number;
  audience?: Audience;
}

export interface VisitsRow {
  /** null: Direct / None (source only). */
  value: string | null;
  visits: number;
  visitors: number;
}

export interface VisitsAnswer {
  dimension: VisitDimension;
  rows: VisitsRow[];
}

export function buildVisits(input: VisitsInput, ctx: QueryContext): BuiltQuery<VisitsAnswer> {
  const ts = ctx.dialect.epochSeconds(identifier('event_time'));
  const pageHost = sql`lower(regexp_extract(page_url, ${URL_HOST_PATTERN}, 1))`;
  // '' marks Direct / None inside the query (a bound value, so no literal in the text); read() maps it to null.
  const source = sql`CASE WHEN referrer_host IS NULL OR referrer_host = ${''} OR referrer_host = ${pageHost} THEN ${''} ELSE referrer_host END`;
  const rows = sql`SELECT visitor_id, ${ts} AS ts, CASE WHEN event = ${PAGEVIEW_EVENT} THEN 1 ELSE 0 END AS is_pageview, page_path, ${source} AS src FROM ${identifier(ctx.tables.events)} WHERE ${partitionFilter(input.projectId, input.range)}${audienceFilter(input.audience)}`;
  const marked = sql`SELECT visitor_id, ts, is_pageview, page_path, src, CASE WHEN ts - LAG(ts) OVER (PARTITION BY visitor_id ORDER BY ts) <= ${integerLiteral(SESSION_GAP_SECONDS)} THEN 0 ELSE 1 END AS is_start FROM (${rows}) e`;
  const numbered = sql`SELECT visitor_id, ts, is_pageview, page_path, src, SUM(is_start) OVER (PARTITION BY visitor_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM (${marked}) m`;
  const bounded = sql`SELECT visitor_id, session_no, ts, is_pageview, page_path, src, MIN(CASE WHEN is_pageview = 1 THEN ts END) OVER (PARTITION BY visitor_id, session_no) AS first_pv, MAX(CASE WHEN is_pageview = 1 THEN ts END) OVER (PARTITION BY visitor_id, session_no) AS last_pv FROM (${numbered}) n`;
  // Page views of the same second are peers: the smallest value among them wins, on both engines.
  const pick =
    input.dimension === 'source'
      ? sql`MIN(CASE WHEN is_pageview = 1 AND ts = first_pv THEN src END)`
      : input.dimension === 'entry_page'
        ? sql`MIN(CASE WHEN is_pageview = 1 AND ts = first_pv THEN page_path END)`
        : sql`MIN(CASE WHEN is_pageview = 1 AND ts = last_pv THEN page_path END)`;
  const visits = sql`SELECT visitor_id, ${pick} AS dim_value FROM (${bounded}) b WHERE first_pv IS NOT NULL GROUP BY visitor_id, session_no`;
  const statement = sql`SELECT dim_value AS dim_value, COUNT(*) AS visits, COUNT(DISTINCT visitor_id) AS visitors FROM (${visits}) v WHERE dim_value IS NOT NULL GROUP BY dim_value ORDER BY visitors DESC, visits DESC, dim_value ASC LIMIT ${integerLiteral(input.limit)}`;
  return {
    statement,
    source: 'raw',
    read: (result: Row[]) => ({
      dimension: input.dimension,
      rows: result.map((row) => {
        const value = stringOf(row, 'dim_value');
        return {
          value: value === '' ? null : value,
          visits: countOf(row, 'visits'),
          visitors: countOf(row, 'visitors'),
        };
      }),
    }),
  };
}
