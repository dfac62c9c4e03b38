/**
 * @module The pieces of HiveServer2 DDL text that carry caller input: a
 * partition clause and a location, each checked by the rules every engine
 * shares (partition-spec.ts) before it becomes a literal.
 */
import type { StoreLocation } from '../../object-store/object-store.ts';
import { hiveStringLiteral } from '../../sql/hive-literal.ts';
import { hiveIdentifier } from '../../sql/identifier.ts';
import { assertLocation, partitionValues } from '../partition-spec.ts';

export function partitionClause(values: Record<string, string>): string {
  // Keys in the caller's order are checked against nothing here (Hive checks them against the table);
  // values are held to the same narrow pattern as on every engine.
  const keys = Object.keys(values);
  const checked = partitionValues(keys, values);
  return `PARTITION (${keys.map((k, i) => `${hiveIdentifier(k)}=${hiveStringLiteral(checked[i]!)}`).join(', ')})`;
}

/** Hive reads S3 through Hadoop's S3A filesystem (`s3a://bucket/key`), a directory by its path. */
export function locationLiteral(location: StoreLocation): string {
  assertLocation(location);
  return hiveStringLiteral(
    location.kind === 's3' ? `s3a://${location.bucket}/${location.key}` : location.path,
  );
}
