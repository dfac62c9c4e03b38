import hive from 'hive-driver';
import { describe, expect, it } from 'vitest';
import { decodeRows, type HiveSchema } from './hive/hive-rows.ts';
import { formatDateDays, formatTimestampMicros, normalizeTimestampText } from './row-format.ts';

const { TTypeId } = hive.thrift.TCLIService_types as { TTypeId: Record<string, number> };

describe('row format', () => {
  it('prints timestamps as UTC with six fraction digits, before the epoch too', () => {
    expect(formatTimestampMicros(1_795_597_230_123_456n)).toBe('2026-11-25 09:00:30.123456');
    expect(formatTimestampMicros(0n)).toBe('1970-01-01 00:00:00.000000');
    expect(formatTimestampMicros(-1n)).toBe('1969-12-31 23:59:59.999999');
    expect(formatDateDays(20_417)).toBe('2025-11-25');
  });

  it("pads Hive's variable fraction digits to six", () => {
    expect(normalizeTimestampText('2026-11-25 09:00:00')).toBe('2026-11-25 09:00:00.000000');
    expect(normalizeTimestampText('2026-11-25 09:00:00.5')).toBe('2026-11-25 09:00:00.500000');
    expect(normalizeTimestampText('2026-11-25 09:00:00.123456789')).toBe('2026-11-25 09:00:00.123456');
    expect(normalizeTimestampText('not a timestamp')).toBe('not a timestamp');
  });
});

describe('decodeRows (HiveServer2 result sets)', () => {
  const column = (name: string, type: number, position: number) => ({
    columnName: `t.${name}`,
    position,
    typeDesc: { types: [{ primitiveEntry: { type } }] },
  });
  /** node-int64 as thrift decodes it: eight big-endian bytes. */
  const int64 = (value: bigint) => ({
    toOctetString: () => BigInt.asUintN(64, value).toString(16).padStart(16, '0'),
  });

  it('decodes by the schema: exact BIGINTs, padded timestamps, nulls from the bitmap, lower-case names', () => {
    const schema: HiveSchema = {
      columns: [
        column('N', TTypeId.BIGINT_TYPE!, 1),
        column('At', TTypeId.TIMESTAMP_TYPE!, 2),
        column('s', TTypeId.STRING_TYPE!, 3),
      ],
    };
    const rows = decodeRows(schema, [
      {
        columns: [
          { i64Val: { values: [int64(2n ** 53n + 2n), int64(-5n)], nulls: new Uint8Array([0]) } },
          { stringVal: { values: ['2026-11-25 09:00:00.5', ''], nulls: new Uint8Array([0b10]) } },
          { stringVal: { values: ['x', 'y'], nulls: new Uint8Array([0]) } },
        ],
      },
    ]);
    expect(rows).toEqual([
      { n: 9_007_199_254_740_994, at: '2026-11-25 09:00:00.500000', s: 'x' },
      { n: -5, at: null, s: 'y' },
    ]);
  });

  it('has no rows for a statement without a result set', () => {
    expect(decodeRows(null, [])).toEqual([]);
  });
});
