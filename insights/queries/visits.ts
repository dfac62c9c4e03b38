/**
 * @module Top values per visit (session): where visits came from (`source`),
 * the page they started on (`entry_page`) and the page they left from
 * (`exit_page`). Sessions are cut as in the summary (more than 30 minutes
 * between two events of a visitor); a visit counts here when it has a page
 * view. Its source is the referrer host of its first page view, unless that
 * is the page's own host (internal navigation, e.g. a tab reopened after the
 * session timed out) or there is none: then it is Direct / None, answered as
 * `value: null`. Page views of the same second: the smallest value wins.
 *
 * From the rollup when the audience allows: sessions_hourly's pieces merged
 * into sessions as summary.ts merges them, each session's first (last) page
 * view second the smallest (largest) over its pieces and its value the
 * smallest among the pieces at that second, which is the raw answer exactly
 * (a piece holds the smallest value of its own page views at its own first
 * second). Pieces written before the per-visit columns existed (page views
 * but no `entry_second`) make the rows say so, and the runner asks the raw
 * query instead. Otherwise windows over each visitor's raw rows, no join
 * (see funnel.ts).
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import { URL_HOST_PATTERN } from '../../shared/warehouse.ts';
import type { HourRange } from '../hour-range.ts';
import type { VisitDimension } from '../params.ts';
import { identifier, integerLiteral, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf, stringOf } from './row-values.ts';
import { PAGEVIEW_EVENT, SESSION_GAP_SECONDS } from './summary.ts';

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
  const raw = rawVisits(input, ctx);
  if (!ctx.rollups || !answersFromRollups(input.audience)) return raw;
  return {
    ...rolledUpVisits(input, ctx),
    fallback: { needed: (rows) => rows.some((row) => countOf(row, 'stale') > 0), query: () => raw },
  };
}

/** What a dimension reads of a piece: the second of its first or last page view, and the value there. */
const PIECE_COLUMNS: Record<VisitDimension, { second: string; value: string; edge: 'MIN' | 'MAX' }> = {
  source: { second: 'entry_second', value: 'entry_source', edge: 'MIN' },
  entry_page: { second: 'entry_second', value: 'entry_page', edge: 'MIN' },
  exit_page: { second: 'exit_second', value: 'exit_page', edge: 'MAX' },
};

/** Sessions merged from sessions_hourly's pieces; a row with `stale` 1 says some piece predates the columns. */
function rolledUpVisits(input: VisitsInput, ctx: QueryContext): BuiltQuery<VisitsAnswer> {
  const gap = integerLiteral(SESSION_GAP_SECONDS);
  const read = PIECE_COLUMNS[input.dimension];
  const edge = read.edge === 'MIN' ? sql`MIN(pv_second)` : sql`MAX(pv_second)`;
  const pieces = sql`SELECT visitor_id, first_second, last_second, ${identifier(read.second)} AS pv_second, ${identifier(read.value)} AS pv_value, CASE WHEN pageviews > 0 AND entry_second IS NULL THEN 1 ELSE 0 END AS stale FROM ${identifier(ctx.tables.sessionsHourly)} WHERE ${partitionFilter(input.projectId, input.range)}`;
  // A piece starts a session when it starts more than the gap after every piece before it has
  // ended (summary.ts says why that is the raw rule). Pieces starting in the same second are
  // peers: the ROWS frame gives at most the first of them a start, and the RANGE sum numbers
  // them all alike, whichever order either window put them in.
  const ends = sql`SELECT visitor_id, first_second, pv_second, pv_value, stale, MAX(last_second) OVER (PARTITION BY visitor_id ORDER BY first_second, last_second ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS end_before FROM (${pieces}) p`;
  const marked = sql`SELECT visitor_id, first_second, pv_second, pv_value, stale, CASE WHEN end_before IS NULL OR first_second - end_before > ${gap} THEN 1 ELSE 0 END AS is_start FROM (${ends}) e`;
  const numbered = sql`SELECT visitor_id, pv_second, pv_value, stale, SUM(is_start) OVER (PARTITION BY visitor_id ORDER BY first_second RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM (${marked}) m`;
  // The session's first (last) page-view second, and the smallest value of its pieces at it.
  const bounded = sql`SELECT visitor_id, session_no, pv_second, pv_value, stale, ${edge} OVER (PARTITION BY visitor_id, session_no) AS edge_second FROM (${numbered}) n`;
  const visits = sql`SELECT visitor_id, MAX(stale) AS stale, MIN(CASE WHEN pv_second = edge_second THEN pv_value END) AS dim_value FROM (${bounded}) b WHERE edge_second IS NOT NULL OR stale = 1 GROUP BY visitor_id, session_no`;
  // Stale sessions form their own group, sorted first so that LIMIT keeps it.
  const statement = sql`SELECT stale, dim_value AS dim_value, COUNT(*) AS visits, COUNT(DISTINCT visitor_id) AS visitors FROM (${visits}) v WHERE dim_value IS NOT NULL OR stale = 1 GROUP BY stale, dim_value ORDER BY stale DESC, visitors DESC, visits DESC, dim_value ASC LIMIT ${integerLiteral(input.limit)}`;
  return { statement, source: 'rollup', read: (rows) => readVisits(input.dimension, rows) };
}

function rawVisits(input: VisitsInput, ctx: QueryContext): BuiltQuery<VisitsAnswer> {
  const ts = ctx.dialect.epochSeconds(identifier('event_time'));
  const pageHost = sql`lower(regexp_extract(page_url, ${URL_HOST_PATTERN}, 1))`;
  // '' marks Direct / None inside the query (a bound value, so no literal in the text); read() maps it to null.
  const source = sql`CASE WHEN referrer_host IS NULL OR referrer_host = ${''} OR referrer_host = ${pageHost} THEN ${''} ELSE referrer_host END`;
  const rows = sql`SELECT visitor_id, ${ts} AS ts, CASE WHEN event = ${PAGEVIEW_EVENT} THEN 1 ELSE 0 END AS is_pageview, page_path, ${source} AS src FROM ${identifier(ctx.tables.events)} WHERE ${partitionFilter(input.projectId, input.range)}${audienceFilter(input.audience)}`;
  const marked = sql`SELECT visitor_id, ts, is_pageview, page_path, src, CASE WHEN ts - LAG(ts) OVER (PARTITION BY visitor_id ORDER BY ts) <= ${integerLiteral(SESSION_GAP_SECONDS)} THEN 0 ELSE 1 END AS is_start FROM (${rows}) e`;
  const numbered = sql`SELECT visitor_id, ts, is_pageview, page_path, src, SUM(is_start) OVER (PARTITION BY visitor_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM (${marked}) m`;
  const bounded = sql`SELECT visitor_id, session_no, ts, is_pageview, page_path, src, MIN(CASE WHEN is_pageview = 1 THEN ts END) OVER (PARTITION BY visitor_id, session_no) AS first_pv, MAX(CASE WHEN is_pageview = 1 THEN ts END) OVER (PARTITION BY visitor_id, session_no) AS last_pv FROM (${numbered}) n`;
  // Page views of the same second are peers: the smallest value among them wins, on both engines.
  const pick: Statement =
    input.dimension === 'source'
      ? sql`MIN(CASE WHEN is_pageview = 1 AND ts = first_pv THEN src END)`
      : input.dimension === 'entry_page'
        ? sql`MIN(CASE WHEN is_pageview = 1 AND ts = first_pv THEN page_path END)`
        : sql`MIN(CASE WHEN is_pageview = 1 AND ts = last_pv THEN page_path END)`;
  const visits = sql`SELECT visitor_id, ${pick} AS dim_value FROM (${bounded}) b WHERE first_pv IS NOT NULL GROUP BY visitor_id, session_no`;
  const statement = sql`SELECT dim_value AS dim_value, COUNT(*) AS visits, COUNT(DISTINCT visitor_id) AS visitors FROM (${visits}) v WHERE dim_value IS NOT NULL GROUP BY dim_value ORDER BY visitors DESC, visits DESC, dim_value ASC LIMIT ${integerLiteral(input.limit)}`;
  return { statement, source: 'raw', read: (rows) => readVisits(input.dimension, rows) };
}

function readVisits(dimension: VisitDimension, result: Row[]): VisitsAnswer {
  return {
    dimension,
    rows: result.map((row) => {
      const value = stringOf(row, 'dim_value');
      return {
        value: value === '' ? null : value,
        visits: countOf(row, 'visits'),
        visitors: countOf(row, 'visitors'),
      };
    }),
  };
}
