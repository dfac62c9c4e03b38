/**
 * @module HiveQL (Hive 4 on HiveServer2). HiveServer2 runs with its JVM in UTC
 * (docs/warehouse.md, "Timestamps"), so `unix_timestamp` reads TIMESTAMP columns as UTC instants.
 */
import { type Statement, sql } from '../sql/statement.ts';
import type { Dialect } from './dialect.ts';

export const hiveDialect: Dialect = {
  engine: 'hive',
  // get_json_object answers NULL for a missing key and for text that is not JSON.
  jsonString: (json: Statement, path: string) => sql`get_json_object(${json}, ${path})`,
  epochSeconds: (timestamp: Statement) => sql`unix_timestamp(${timestamp})`,
};
