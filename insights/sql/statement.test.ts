import { describe, expect, it } from 'vitest';
import { identifier, integerLiteral, joinSql, sql } from './statement.ts';

describe('sql tag', () => {
  it('binds every interpolated value as a parameter, in order', () => {
    const s = sql`SELECT a FROM t WHERE b = ${"x' OR '1'='1"} AND c IN (${joinSql([sql`${1}`, sql`${2}`], ', ')})`;
    expect(s.text).toBe('SELECT a FROM t WHERE b = ? AND c IN (?, ?)');
    expect(s.params).toEqual(["x' OR '1'='1", 1, 2]);
  });

  it('splices nested statements with their parameters', () => {
    const inner = sql`x = ${'a'}`;
    const s = sql`SELECT ${identifier('t.col')} FROM t WHERE ${inner} AND y = ${null} LIMIT ${integerLiteral(10)}`;
    expect(s.text).toBe('SELECT t.col FROM t WHERE x = ? AND y = ? LIMIT 10');
    expect(s.params).toEqual(['a', null]);
  });

  it('refuses identifiers that would need quoting', () => {
    for (const bad of [
      '',
      'a b',
      'a;b',
      'a--',
      '"a"',
      '`a`',
      'a.b.c',
      '1a',
      'événement',
      'a\u0000',
      'x'.repeat(129),
    ]) {
      expect(() => identifier(bad), bad).toThrow(/identifier/);
    }
    expect(identifier('db_1.events_hourly').text).toBe('db_1.events_hourly');
  });

  it('refuses integer literals that are not safe integers', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)]) {
      expect(() => integerLiteral(bad)).toThrow(/safe integer/);
    }
    expect(integerLiteral(-3).text).toBe('-3');
  });
});
