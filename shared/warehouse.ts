/**
 * @module The warehouse tables (docs/warehouse.md, "Keys" and "Tables"):
 * names, columns and partition layout shared by the loader that writes them
 * and the insights service that reads them. One definition, so Hive, DuckDB
 * and the Parquet writer cannot drift apart.
 */
import { z } from 'zod';
import type { ColumnDef } from './catalog/metastore.ts';

export const PARTITION_COLUMNS = ['dt', 'hour'] as const;

/** Raw events, one row per event that survived dedup. Nested objects are JSON strings. */
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
];

/** Per hour, project and event: counts and distinct visitors of that hour. */
export const EVENTS_HOURLY_COLUMNS: ColumnDef[] = [
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
export const VISITORS_HOURLY_COLUMNS: ColumnDef[] = [
  { name: 'project_id', type: 'STRING' },
  { name: 'visitor_id', type: 'STRING' },
  { name: 'events', type: 'BIGINT' },
  { name: 'pageviews', type: 'BIGINT' },
  /** Event time of the visitor's first and last event in the hour (added by the loader; visit-duration bounds). */
  { name: 'first_seen', type: 'TIMESTAMP' },
  { name: 'last_seen', type: 'TIMESTAMP' },
];

export const TABLES = {
  events: { name: 'events', columns: EVENTS_COLUMNS },
  events_hourly: { name: 'events_hourly', columns: EVENTS_HOURLY_COLUMNS },
  visitors_hourly: { name: 'visitors_hourly', columns: VISITORS_HOURLY_COLUMNS },
} as const;

/**
 * A catalog table name, the one rule for every config (the pipeline file, the
 * loader's and insights' own): lower case, because Hive folds identifiers to
 * lower case while DuckDB keeps them, so `Events` would be one table in one
 * engine and another in the other; unqualified, because the loader derives
 * object keys and DuckDB views from it.
 */
export const tableNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,127}$/, 'lower-case letters, digits and _');

/** The three tables' names, each defaulting to its own. */
export const tablesSchema = z
  .strictObject({
    events: tableNameSchema.default(TABLES.events.name),
    eventsHourly: tableNameSchema.default(TABLES.events_hourly.name),
    visitorsHourly: tableNameSchema.default(TABLES.visitors_hourly.name),
  })
  .prefault({});

/** `dt=YYYY-MM-DD/hour=HH` of a UTC instant: the partition an event lands in. */
export function partitionOf(instant: Date): { dt: string; hour: string } {
  const iso = instant.toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
