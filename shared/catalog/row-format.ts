/**
 * @module The one row format both engines return (shared/catalog/README.md,
 * "Rows"), so insights gets identical answers from Hive and DuckDB:
 * lower-case column names; STRING as string; INT, BIGINT, DOUBLE, DECIMAL as
 * number; BOOLEAN as boolean; DATE as 'YYYY-MM-DD'; TIMESTAMP as
 * 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (always six fraction digits); NULL as null.
 */

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400n * MICROS_PER_SECOND;

/** Micros since the epoch (UTC) as 'YYYY-MM-DD HH:MM:SS.ffffff'. */
export function formatTimestampMicros(micros: bigint): string {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = new Date(Number(days) * 86_400_000).toISOString().slice(0, 10);
  const seconds = Number(rest / MICROS_PER_SECOND);
  const fraction = String(rest % MICROS_PER_SECOND).padStart(6, '0');
  const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return `${date} ${hh}:${mm}:${ss}.${fraction}`;
}

/** Days since the epoch as 'YYYY-MM-DD'. */
export function formatDateDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Hive prints timestamps with as many fraction digits as are non-zero
 * ('2026-11-25 09:00:00', '… 09:00:00.5', '… 09:00:00.123456'): pad to six.
 */
export function normalizeTimestampText(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) return text;
  const fraction = (match[3] ?? '').padEnd(6, '0').slice(0, 6);
  return `${match[1]} ${match[2]}.${fraction}`;
}

/** BIGINT and wider as number: exact up to 2^53, the documented limit (CAST AS STRING beyond). */
export function bigintToNumber(value: bigint): number {
  return Number(value);
}
