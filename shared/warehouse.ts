/**
 * @module The warehouse tables (docs/warehouse.md, "Keys" and "Tables"):
 * names, columns and partition layout shared by the loader that writes them
 * and the insights service that reads them. One definition, so Hive, DuckDB
 * and the Parquet writer cannot drift apart.
 */
import { z } from 'zod';
import type { ColumnDef } from './catalog/metastore.ts';

export const PARTITION_COLUMNS = ['dt', 'hour'] as const;

/**
 * Raw events, one row per event that survived dedup. Nested objects are JSON
 * strings. New columns go at the end: the loader adds them to tables that
 * exist (ALTER TABLE … ADD COLUMNS), and files written before read them as NULL.
 * docs/fields.md says where each field of a Segment event lands.
 */
export const EVENTS_COLUMNS: ColumnDef[] = [
  { name: 'message_id', type: 'STRING' },
  { name: 'project_id', type: 'STRING' },
  { name: 'type', type: 'STRING' },
  /** track: event name; page: '$pageview'; screen: '$screen'; others: '$' + type. */
  { name: 'event', type: 'STRING' },
  { name: 'user_id', type: 'STRING' },
  { name: 'anonymous_id', type: 'STRING' },
  /** user_id when known, else anonymous_id: what "visitors" count. */
  { name: 'visitor_id', type: 'STRING' },
  { name: 'session_id', type: 'STRING' },
  { name: 'event_time', type: 'TIMESTAMP' },
  { name: 'received_at', type: 'TIMESTAMP' },
  { name: 'sent_at', type: 'TIMESTAMP' },
  { name: 'page_path', type: 'STRING' },
  { name: 'page_url', type: 'STRING' },
  { name: 'page_title', type: 'STRING' },
  { name: 'referrer', type: 'STRING' },
  { name: 'referrer_host', type: 'STRING' },
  { name: 'utm_source', type: 'STRING' },
  { name: 'utm_medium', type: 'STRING' },
  { name: 'utm_campaign', type: 'STRING' },
  { name: 'country', type: 'STRING' },
  { name: 'browser', type: 'STRING' },
  { name: 'os', type: 'STRING' },
  { name: 'device', type: 'STRING' },
  { name: 'ip_hash', type: 'STRING' },
  { name: 'properties', type: 'STRING' },
  { name: 'traits', type: 'STRING' },
  { name: 'context', type: 'STRING' },
  /** page/screen: the name and category as sent. */
  { name: 'name', type: 'STRING' },
  { name: 'category', type: 'STRING' },
  { name: 'group_id', type: 'STRING' },
  { name: 'previous_id', type: 'STRING' },
  /** The client's own `timestamp` and `originalTimestamp`, as sent (event_time is the corrected one). */
  { name: 'client_timestamp', type: 'TIMESTAMP' },
  { name: 'original_timestamp', type: 'TIMESTAMP' },
  { name: 'channel', type: 'STRING' },
  /** JSON text, for downstream routing. */
  { name: 'integrations', type: 'STRING' },
  /** The edge's `enrichment.bot`; NULL (files written before it, or no user agent) is not a bot. */
  { name: 'is_bot', type: 'BOOLEAN' },
];

/** Per hour, project and event: counts and distinct visitors of that hour. */
const EVENTS_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'event', type: 'STRING' },
  { name: 'events', type: 'BIGINT' },
  { name: 'visitors', type: 'BIGINT' },
];

/**
 * Per hour, project and visitor: one row. Distinct visitors do not add across
 * hours, so any range is answered exactly by COUNT(DISTINCT visitor_id) over
 * this table, which is far smaller than the raw events.
 */
const VISITORS_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'visitor_id', type: 'STRING' },
  { name: 'events', type: 'BIGINT' },
  { name: 'pageviews', type: 'BIGINT' },
  /** Event time of the visitor's first and last event in the hour (added by the loader; visit-duration bounds). */
  { name: 'first_seen', type: 'TIMESTAMP' },
  { name: 'last_seen', type: 'TIMESTAMP' },
];

/**
 * The host of an absolute URL (group 1 of a regexp_extract; '' when it does
 * not match): how a visit's page URL is told apart from its referrer to see
 * internal navigation (insights/queries/visits.ts, and the loader's
 * sessions_hourly). Plain enough that DuckDB's and Hive's regexps read it alike.
 */
export const URL_HOST_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)';

/**
 * Per hour, project and visitor: one row per session piece of that hour's
 * events (split, as sessions are, where more than 30 minutes of event time
 * pass between two events, in whole seconds). Pieces of all hours of a range
 * merge into exactly the sessions the raw events give (insights/queries/summary.ts).
 *
 * The `entry_*` and `exit_*` columns (added after the others) are what the
 * per-visit panels need of a piece's page views (insights/queries/visits.ts):
 * the second of its first page view with that view's source and path, and the
 * second of its last with its path; among page views of one second the
 * smallest value, so a session's values are the smallest over its pieces at
 * its first (last) second, exactly as over the raw events. NULL when the piece
 * has no page view; a piece with page views and a NULL `entry_second` was
 * written before the columns existed.
 */
const SESSIONS_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'visitor_id', type: 'STRING' },
  /** Whole seconds since the epoch of the piece's first and last event time. */
  { name: 'first_second', type: 'BIGINT' },
  { name: 'last_second', type: 'BIGINT' },
  { name: 'events', type: 'BIGINT' },
  /** Events named '$pageview'. */
  { name: 'pageviews', type: 'BIGINT' },
  /** Whole second of the piece's first page view. */
  { name: 'entry_second', type: 'BIGINT' },
  /** Its referrer host, '' for Direct / None (none, or the page's own host: internal navigation). */
  { name: 'entry_source', type: 'STRING' },
  /** Its page_path. */
  { name: 'entry_page', type: 'STRING' },
  /** Whole second of the piece's last page view, and its page_path. */
  { name: 'exit_second', type: 'BIGINT' },
  { name: 'exit_page', type: 'STRING' },
];

/**
 * The top-N dimensions the rollups keep: the dimension column over all events,
 * and `pageview_path` (page_path of '$pageview' events only, the dashboard's
 * "top pages").
 */
export const ROLLUP_DIMENSIONS = [
  'event',
  'page_path',
  'pageview_path',
  'referrer_host',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'country',
  'browser',
  'os',
  'device',
] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/**
 * Per hour, project, dimension, value and visitor: the visitor's events with
 * that value (NULL and empty values left out). Distinct visitors per value
 * stay exact over any range (COUNT(DISTINCT visitor_id)), as with visitors_hourly.
 */
const DIMENSIONS_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'dimension', type: 'STRING' },
  { name: 'value', type: 'STRING' },
  { name: 'visitor_id', type: 'STRING' },
  { name: 'events', type: 'BIGINT' },
];

/**
 * Per hour, project, event and visitor: each distinct event time. What funnels
 * read (visitor, event, time) without the rest of the raw row, sorted by
 * project so one project's steps are a short scan.
 */
const EVENT_TIMES_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'event', type: 'STRING' },
  { name: 'visitor_id', type: 'STRING' },
  { name: 'event_time', type: 'TIMESTAMP' },
];

export const TABLES = {
  events: { name: 'events', columns: EVENTS_COLUMNS },
  events_hourly: { name: 'events_hourly', columns: EVENTS_HOURLY_COLUMNS },
  visitors_hourly: { name: 'visitors_hourly', columns: VISITORS_HOURLY_COLUMNS },
  sessions_hourly: { name: 'sessions_hourly', columns: SESSIONS_HOURLY_COLUMNS },
  dimensions_hourly: { name: 'dimensions_hourly', columns: DIMENSIONS_HOURLY_COLUMNS },
  event_times_hourly: { name: 'event_times_hourly', columns: EVENT_TIMES_HOURLY_COLUMNS },
} as const;

/** The rollups the loader rewrites whole for every hour it touches. */
export const ROLLUP_TABLES = [
  'events_hourly',
  'visitors_hourly',
  'sessions_hourly',
  'dimensions_hourly',
  'event_times_hourly',
] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

/**
 * A catalog table name, the one rule for every config (the pipeline file, the
 * loader's and insights' own): lower case, because Hive folds identifiers to
 * lower case while DuckDB keeps them, so `Events` would be one table in one
 * engine and another in the other; unqualified, because the loader derives
 * object keys and DuckDB views from it.
 */
const tableNameSchema = z.string().regex(/^[a-z_][a-z0-9_]{0,127}$/, 'lower-case letters, digits and _');

/** The tables' names, each defaulting to its own. */
export const tablesSchema = z
  .strictObject({
    events: tableNameSchema.default(TABLES.events.name),
    eventsHourly: tableNameSchema.default(TABLES.events_hourly.name),
    visitorsHourly: tableNameSchema.default(TABLES.visitors_hourly.name),
    sessionsHourly: tableNameSchema.default(TABLES.sessions_hourly.name),
    dimensionsHourly: tableNameSchema.default(TABLES.dimensions_hourly.name),
    eventTimesHourly: tableNameSchema.default(TABLES.event_times_hourly.name),
  })
  .prefault({});

/** The catalog names of the warehouse tables, as configured. */
export type WarehouseTableNames = z.output<typeof tablesSchema>;

/** The catalog names of the rollup tables (what an embedded engine keeps in its own storage). */
export function rollupTableNames(tables: WarehouseTableNames): string[] {
  return ROLLUP_TABLES.map((table) => tables[TABLE_NAME_KEYS[table]]);
}

/** The config key of each table's name. */
export const TABLE_NAME_KEYS = {
  events: 'events',
  events_hourly: 'eventsHourly',
  visitors_hourly: 'visitorsHourly',
  sessions_hourly: 'sessionsHourly',
  dimensions_hourly: 'dimensionsHourly',
  event_times_hourly: 'eventTimesHourly',
} as const satisfies Record<keyof typeof TABLES, keyof WarehouseTableNames>;

/** `dt=YYYY-MM-DD/hour=HH` of a UTC instant: the partition an event lands in. */
export function partitionOf(instant: Date): { dt: string; hour: string } {
  const iso = instant.toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
