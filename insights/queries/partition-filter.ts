/**
 * @module The WHERE clause every query starts from: one project and the
 * partitions of an hour range. Written on the partition columns alone, with
 * plain comparisons, so Hive's partition pruner and DuckDB's hive-partition
 * filter both skip every other partition, and it holds whether the engine
 * types `dt`/`hour` as strings or not.
 */
import { partitionOf } from '../../shared/warehouse.ts';
import { type HourRange, partitionBounds } from '../hour-range.ts';
import { identifier, type Statement, sql } from '../sql/statement.ts';

function column(alias: string | undefined, name: string): Statement {
  return identifier(alias ? `${alias}.${name}` : name);
}

export function partitionFilter(projectId: string, range: HourRange, alias?: string): Statement {
  const b = partitionBounds(range);
  const dt = column(alias, 'dt');
  const hour = column(alias, 'hour');
  return sql`${column(alias, 'project_id')} = ${projectId} AND ${dt} >= ${b.firstDt} AND ${dt} <= ${b.lastDt} AND (${dt} > ${b.from.dt} OR ${hour} >= ${b.from.hour}) AND (${dt} < ${b.to.dt} OR ${hour} < ${b.to.hour})`;
}

/** 1 for partitions at or after `start`, else 0: splits one scan into two periods. */
export function atOrAfter(start: Date): Statement {
  const p = partitionOf(start);
  return sql`CASE WHEN dt > ${p.dt} OR (dt = ${p.dt} AND hour >= ${p.hour}) THEN 1 ELSE 0 END`;
}
