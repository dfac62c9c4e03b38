/**
 * @module The DuckDB SELECT of each rollup table (shared/warehouse.ts) over one
 * hour's events, sorted by project so that row-group statistics and the
 * insights engine skip other projects. One definition, used by the loader
 * (rollup.ts) and by the benchmark's bulk warehouse, so both write the same.
 *
 * Visitors stay exact everywhere: each table keeps visitor ids where a count
 * of distinct visitors over a range needs them (insights/README.md says why
 * not sketches).
 */
import { duckdbString } from '../../shared/catalog/duckdb/duckdb-views.ts';
import { ROLLUP_DIMENSIONS, type RollupTable, URL_HOST_PATTERN } from '../../shared/warehouse.ts';

/** The session gap of insights/queries/summary.ts, in whole seconds. */
const SESSION_GAP_SECONDS = 30 * 60;

/** `column` of each dimension, and the rows it is taken from. */
const DIMENSION_SOURCES: Record<(typeof ROLLUP_DIMENSIONS)[number], { column: string; where?: string }> = {
  event: { column: 'event' },
  page_path: { column: 'page_path' },
  pageview_path: { column: 'page_path', where: "event = '$pageview'" },
  referrer_host: { column: 'referrer_host' },
  utm_source: { column: 'utm_source' },
  utm_medium: { column: 'utm_medium' },
  utm_campaign: { column: 'utm_campaign' },
  country: { column: 'country' },
  browser: { column: 'browser' },
  os: { column: 'os' },
  device: { column: 'device' },
};

/**
 * The rows of `table` for the events in `source` (a table expression over one
 * hour's events). `by` names columns of `source` to roll up by first and keep
 * (the benchmark's bulk warehouse passes `dt, hour` to roll up many hours at once).
 */
export function rollupSelect(table: RollupTable, source: string, by: readonly string[] = []): string {
  const k = by.map((c) => `${c}, `).join('');
  switch (table) {
    case 'events_hourly':
      return `SELECT ${k}project_id, event, count(*)::BIGINT AS events, count(DISTINCT visitor_id)::BIGINT AS visitors
              FROM ${source} GROUP BY ${k}project_id, event ORDER BY ${k}project_id, event`;
    case 'visitors_hourly':
      return `SELECT ${k}project_id, visitor_id, count(*)::BIGINT AS events,
                     (count(*) FILTER (WHERE type = 'page'))::BIGINT AS pageviews,
                     min(event_time) AS first_seen, max(event_time) AS last_seen
              FROM ${source} WHERE visitor_id IS NOT NULL
              GROUP BY ${k}project_id, visitor_id ORDER BY ${k}project_id, visitor_id`;
    case 'sessions_hourly': {
      // The raw-events session rule, applied to this hour alone: a piece starts where the gap to the
      // visitor's previous event exceeds the session gap. Whole seconds truncated, as both engines do.
      // A page view's source is Direct / None ('') without a referrer host or with the page's own.
      const pageHost = `lower(regexp_extract(page_url, ${duckdbString(URL_HOST_PATTERN)}, 1))`;
      const piece = `PARTITION BY ${k}project_id, visitor_id, piece`;
      return `WITH e AS (
                SELECT ${k}project_id, visitor_id, epoch_ms(event_time) // 1000 AS ts,
                       CASE WHEN event = '$pageview' THEN 1 ELSE 0 END AS pv, page_path,
                       CASE WHEN referrer_host IS NULL OR referrer_host = '' OR referrer_host = ${pageHost}
                            THEN '' ELSE referrer_host END AS src FROM ${source}
              ), m AS (
                SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY ${k}project_id, visitor_id ORDER BY ts) <= ${SESSION_GAP_SECONDS}
                               THEN 0 ELSE 1 END AS is_start FROM e
              ), n AS (
                SELECT *, sum(is_start) OVER (PARTITION BY ${k}project_id, visitor_id ORDER BY ts
                                              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS piece FROM m
              ), p AS (
                SELECT *, min(CASE WHEN pv = 1 THEN ts END) OVER (${piece}) AS first_pv,
                          max(CASE WHEN pv = 1 THEN ts END) OVER (${piece}) AS last_pv FROM n
              )
              SELECT ${k}project_id, visitor_id, min(ts)::BIGINT AS first_second, max(ts)::BIGINT AS last_second,
                     count(*)::BIGINT AS events, sum(pv)::BIGINT AS pageviews,
                     min(first_pv)::BIGINT AS entry_second,
                     min(CASE WHEN pv = 1 AND ts = first_pv THEN src END) AS entry_source,
                     min(CASE WHEN pv = 1 AND ts = first_pv THEN page_path END) AS entry_page,
                     max(last_pv)::BIGINT AS exit_second,
                     min(CASE WHEN pv = 1 AND ts = last_pv THEN page_path END) AS exit_page
              FROM p GROUP BY ${k}project_id, visitor_id, piece ORDER BY ${k}project_id, visitor_id, first_second`;
    }
    case 'event_times_hourly':
      // Repeats of one (visitor, event, time) change no funnel: each step takes the earliest time.
      return `SELECT DISTINCT ${k}project_id, event, visitor_id, event_time FROM ${source}
              ORDER BY ${k}project_id, event, visitor_id, event_time`;
    case 'dimensions_hourly': {
      const parts = ROLLUP_DIMENSIONS.map((dimension) => {
        const { column, where } = DIMENSION_SOURCES[dimension];
        return `SELECT ${k}project_id, '${dimension}' AS dimension, ${column} AS value, visitor_id FROM h${where ? ` WHERE ${where}` : ''}`;
      });
      const columns = [...new Set(Object.values(DIMENSION_SOURCES).map((d) => d.column))];
      return `WITH h AS (SELECT ${k}project_id, visitor_id, ${columns.join(', ')} FROM ${source})
              SELECT ${k}project_id, dimension, value, visitor_id, count(*)::BIGINT AS events
              FROM (${parts.join(' UNION ALL ')}) d
              WHERE value IS NOT NULL AND value <> ''
              GROUP BY ${k}project_id, dimension, value, visitor_id
              ORDER BY ${k}project_id, dimension, value, visitor_id`;
    }
  }
}
