/**
 * @module The dashboard's headline numbers for a range and the period of the
 * same length before it, in one scan of sessions_hourly (or of the raw events
 * when rollups are off):
 * - visitors: distinct visitor ids; pageviews; events;
 * - sessions: a visitor's events split where 30 minutes pass without one
 *   (whole seconds, as both engines count them); a session does not cross
 *   the boundary between the two periods;
 * - bounce rate: sessions of exactly one event, a page view, over sessions;
 * - visit duration: mean seconds from a session's first to last event.
 *
 * sessions_hourly holds each hour's session pieces (the same gap rule within
 * the hour). Sorted by start, a piece opens a new session exactly when it
 * starts more than the gap after every earlier piece of the visitor has ended:
 * then no event lies in between, so the raw events break there too; otherwise
 * an earlier piece's events reach within the gap of it. So merging pieces
 * gives the raw sessions, their events, page views and durations exactly.
 * The merge is one pass of windows that share a sort, totalled directly
 * (sessions are counted by their start and end pieces, never grouped).
 */
import type { Row } from '../../shared/catalog/query-engine.ts';
import { type HourRange, previousRange } from '../hour-range.ts';
import { identifier, integerLiteral, type Statement, sql } from '../sql/statement.ts';
import { type Audience, answersFromRollups, audienceFilter } from './audience.ts';
import { atOrAfter, partitionFilter } from './partition-filter.ts';
import type { BuiltQuery, QueryContext } from './query-context.ts';
import { countOf } from './row-values.ts';

export const SESSION_GAP_SECONDS = 30 * 60;
export const PAGEVIEW_EVENT = '$pageview';

export interface SummaryInput {
  projectId: string;
  range: HourRange;
  audience?: Audience;
}

export interface PeriodSummary {
  from: string;
  to: string;
  visitors: number;
  pageviews: number;
  events: number;
  sessions: number;
  /** Bounced sessions over sessions, 0..1 to 4 places. */
  bounceRate: number;
  /** Mean session length in seconds, to 1 place. */
  visitDuration: number;
}

export interface SummaryAnswer {
  current: PeriodSummary;
  previous: PeriodSummary;
}

export function buildSummary(input: SummaryInput, ctx: QueryContext): BuiltQuery<SummaryAnswer> {
  const previous = previousRange(input.range);
  const scanned: HourRange = { from: previous.from, to: input.range.to };
  const gap = integerLiteral(SESSION_GAP_SECONDS);
  const read = (result: Row[]) => readSummary(result, input.range, previous);
  if (ctx.rollups && answersFromRollups(input.audience)) {
    const pieces = sql`SELECT ${atOrAfter(input.range.from)} AS cur, visitor_id, first_second, last_second, events, pageviews FROM ${identifier(ctx.tables.sessionsHourly)} WHERE ${partitionFilter(input.projectId, scanned)}`;
    const order = sql`PARTITION BY cur, visitor_id ORDER BY first_second, last_second`;
    // One sort for every window (they share partition and order): a piece starts a session when it
    // starts more than the gap after the running end before it, and ends one when the next piece
    // starts more than the gap after the running end up to it. Pieces that tie on (first, last)
    // land in one session whichever comes first, so ROWS frames are exact here.
    const ends = sql`SELECT cur, visitor_id, first_second, events, pageviews, MAX(last_second) OVER (${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS end_before, MAX(last_second) OVER (${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS end_here, LEAD(first_second) OVER (${order}) AS next_first FROM (${pieces}) p`;
    const marked = sql`SELECT cur, visitor_id, first_second, events, pageviews, end_here, CASE WHEN end_before IS NULL OR first_second - end_before > ${gap} THEN 1 ELSE 0 END AS is_start, CASE WHEN next_first IS NULL OR next_first - end_here > ${gap} THEN 1 ELSE 0 END AS is_end FROM (${ends}) e`;
    // A session's length is its end piece's running end minus its start piece's first second: the
    // running end never reaches back into an earlier session (that one ended more than the gap before).
    const statement = sql`SELECT cur, COUNT(DISTINCT visitor_id) AS visitors, SUM(pageviews) AS pageviews, SUM(events) AS events, SUM(is_start) AS sessions, SUM(CASE WHEN is_start = 1 AND is_end = 1 AND events = 1 AND pageviews = 1 THEN 1 ELSE 0 END) AS bounces, SUM(CASE WHEN is_end = 1 THEN end_here ELSE 0 END) - SUM(CASE WHEN is_start = 1 THEN first_second ELSE 0 END) AS seconds FROM (${marked}) m GROUP BY cur`;
    return { statement, source: 'rollup', read };
  }
  const ts = ctx.dialect.epochSeconds(identifier('event_time'));
  const rows = sql`SELECT ${atOrAfter(input.range.from)} AS cur, visitor_id, ${ts} AS ts, CASE WHEN event = ${PAGEVIEW_EVENT} THEN 1 ELSE 0 END AS is_pageview FROM ${identifier(ctx.tables.events)} WHERE ${partitionFilter(input.projectId, scanned)}${audienceFilter(input.audience)}`;
  const marked = sql`SELECT cur, visitor_id, ts, is_pageview, CASE WHEN ts - LAG(ts) OVER (PARTITION BY cur, visitor_id ORDER BY ts) <= ${gap} THEN 0 ELSE 1 END AS is_start FROM (${rows}) e`;
  // RANGE, not ROWS: events of the same second are peers and get the same session number, whatever
  // order each window happened to put them in.
  const numbered = sql`SELECT cur, visitor_id, ts, is_pageview, SUM(is_start) OVER (PARTITION BY cur, visitor_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no FROM (${marked}) m`;
  const sessions = sql`SELECT cur, visitor_id, session_no, COUNT(*) AS n_events, SUM(is_pageview) AS n_pageviews, MAX(ts) - MIN(ts) AS seconds FROM (${numbered}) n GROUP BY cur, visitor_id, session_no`;
  return { statement: totals(sessions), source: 'raw', read };
}

/** Per period, from one row per session (cur, visitor_id, n_events, n_pageviews, seconds). */
function totals(sessions: Statement): Statement {
  return sql`SELECT cur, COUNT(DISTINCT visitor_id) AS visitors, SUM(n_pageviews) AS pageviews, SUM(n_events) AS events, COUNT(*) AS sessions, SUM(CASE WHEN n_events = 1 AND n_pageviews = 1 THEN 1 ELSE 0 END) AS bounces, SUM(seconds) AS seconds FROM (${sessions}) s GROUP BY cur`;
}

function readSummary(rows: Row[], current: HourRange, previous: HourRange): SummaryAnswer {
  const period = (cur: number, range: HourRange): PeriodSummary => {
    const row = rows.find((r) => countOf(r, 'cur') === cur) ?? {};
    const sessions = countOf(row, 'sessions');
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      visitors: countOf(row, 'visitors'),
      pageviews: countOf(row, 'pageviews'),
      events: countOf(row, 'events'),
      sessions,
      bounceRate: sessions === 0 ? 0 : Math.round((countOf(row, 'bounces') / sessions) * 10_000) / 10_000,
      visitDuration: sessions === 0 ? 0 : Math.round((countOf(row, 'seconds') / sessions) * 10) / 10,
    };
  };
  return { current: period(1, current), previous: period(0, previous) };
}
