/**
 * @module Decodes HiveServer2's columnar fetch results (TRowSet) into the
 * common row format of row-format.ts. hive-driver's own JsonResult turns a
 * BIGINT beyond 2^53 into Infinity and leaves timestamps with a variable
 * number of fraction digits, so rows are decoded here from the schema.
 */
import hive from 'hive-driver';
import type { Row } from '../query-engine.ts';
import { normalizeTimestampText } from '../row-format.ts';

/** The parts of hive-driver's TableSchema and TRowSet read here (its types are not exported). */
export interface HiveSchema {
  columns: {
    columnName: string;
    position: number;
    typeDesc: { types: { primitiveEntry?: { type: number } }[] };
  }[];
}
interface HiveColumnValues {
  values: unknown[];
  nulls?: Uint8Array;
}
export interface HiveRowSet {
  columns?: Partial<Record<(typeof VALUE_KINDS)[number], HiveColumnValues>>[];
}
/** node-int64's Int64, as thrift decodes i64 values. */
interface Int64Like {
  toOctetString(): string;
}

const VALUE_KINDS = [
  'boolVal',
  'byteVal',
  'i16Val',
  'i32Val',
  'i64Val',
  'doubleVal',
  'stringVal',
  'binaryVal',
] as const;

const TTypeId = (hive.thrift.TCLIService_types as { TTypeId: Record<string, number> }).TTypeId;

export function decodeRows(schema: HiveSchema | null, rowSets: readonly HiveRowSet[]): Row[] {
  if (!schema) return [];
  const columns = [...schema.columns].sort((a, b) => a.position - b.position);
  const names = columns.map((c) => (c.columnName.split('.').pop() ?? c.columnName).toLowerCase());
  const types = columns.map((c) => c.typeDesc.types[0]?.primitiveEntry?.type);
  const rows: Row[] = [];
  for (const rowSet of rowSets) {
    const data = (rowSet.columns ?? []).map((column) => {
      for (const kind of VALUE_KINDS) if (column[kind]) return column[kind];
      return undefined;
    });
    const count = data[0]?.values.length ?? 0;
    for (let r = 0; r < count; r++) {
      const row: Row = {};
      columns.forEach((_, c) => {
        const column = data[c];
        row[names[c]!] =
          column === undefined || isNull(column.nulls, r) ? null : convert(column.values[r], types[c]);
      });
      rows.push(row);
    }
  }
  return rows;
}

function isNull(nulls: Uint8Array | undefined, i: number): boolean {
  if (!nulls) return false;
  const byte = nulls[Math.floor(i / 8)] ?? 0;
  return (byte & (1 << (i % 8))) !== 0;
}

function convert(value: unknown, type: number | undefined): unknown {
  switch (type) {
    case TTypeId.BIGINT_TYPE:
      return int64ToNumber(value);
    case TTypeId.TIMESTAMP_TYPE:
      return normalizeTimestampText(String(value));
    case TTypeId.DECIMAL_TYPE:
      return Number(value);
    case TTypeId.DATE_TYPE:
    case TTypeId.TIMESTAMPLOCALTZ_TYPE:
      return String(value);
    default:
      return value;
  }
}

/** Exact two's-complement decoding, then the nearest double (node-int64's toNumber gives Infinity past 2^53). */
function int64ToNumber(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'toOctetString' in value) {
    return Number(BigInt.asIntN(64, BigInt(`0x${(value as Int64Like).toOctetString()}`)));
  }
  return value;
}
