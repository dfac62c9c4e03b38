/**
 * @module The embedded catalog's own metastore: tables and their partitions'
 * locations, one JSON object in the object store (a file, for a directory
 * store). It plays the role of Hive's metastore for DuckDB. The object is
 * replaced whole on every change (atomic on both stores); `revision` grows
 * with each change, and each partition records the revision that last touched
 * it, so a reader in another process relists only those partitions.
 *
 * Writers re-read the object right before changing it, which keeps a second
 * writer's additions in the common case; two processes writing in the same
 * instant can still lose one update, so one writer (the loader) is the rule.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CatalogError } from '../../errors.ts';
import type { ObjectStore } from '../../object-store/object-store.ts';
import { COLUMN_TYPES } from '../partition-spec.ts';

const partitionSchema = z.object({
  values: z.record(z.string(), z.string()),
  location: z.string(),
  /** The metadata revision that last added, moved or touched this partition. */
  revision: z.number().int().nonnegative(),
});

const tableSchema = z.object({
  name: z.string(),
  columns: z.array(z.object({ name: z.string(), type: z.enum(COLUMN_TYPES as [string, ...string[]]) })),
  partitionedBy: z.array(z.string()),
  location: z.string(),
  /** Keyed by partition name (`dt=…/hour=…`). */
  partitions: z.record(z.string(), partitionSchema),
});

const metadataSchema = z.object({
  format: z.literal(1),
  /**
   * Set at the first write: tells this catalog from another one stored at the
   * same key later (data wiped, revisions counted again from 0), so a reader's
   * copies of partitions (duckdb-materialized.ts) are not taken for current.
   */
  id: z.string().optional(),
  revision: z.number().int().nonnegative(),
  tables: z.record(z.string(), tableSchema),
});

export type StoredTable = z.infer<typeof tableSchema>;
export type CatalogMetadata = z.infer<typeof metadataSchema>;

function emptyMetadata(): CatalogMetadata {
  return { format: 1, revision: 0, tables: {} };
}

export class MetadataFile {
  private readonly store: ObjectStore;
  private readonly key: string;

  constructor(store: ObjectStore, key: string) {
    this.store = store;
    this.key = key;
  }

  /** The stored text (to compare cheaply) and its parsed form; an absent object is an empty catalog. */
  async read(): Promise<{ text: string; metadata: CatalogMetadata }> {
    const bytes = await this.store.get(this.key);
    if (bytes === null) return { text: '', metadata: emptyMetadata() };
    const text = Buffer.from(bytes).toString('utf8');
    return { text, metadata: parseMetadata(text, this.key) };
  }

  async write(metadata: CatalogMetadata): Promise<string> {
    metadata.id ??= randomUUID();
    const text = `${JSON.stringify(metadata, null, 1)}\n`;
    await this.store.put(this.key, text, { contentType: 'application/json' });
    return text;
  }
}

function parseMetadata(text: string, key: string): CatalogMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt(key, error);
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) throw corrupt(key, parsed.error);
  return parsed.data;
}

function corrupt(key: string, cause: unknown): CatalogError {
  return new CatalogError(
    `The DuckDB catalog metadata ${key} is unreadable; restore it or delete it and re-add partitions`,
    {
      code: 'corrupt_metadata',
      cause,
    },
  );
}
