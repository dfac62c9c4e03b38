// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` strings here are hostile inputs for HiveServer2's variable substitution, not templates
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogError } from '../errors.ts';
import { bindHiveParams, hiveLiteral, hiveStringLiteral, placeholderPositions } from './hive-literal.ts';

/**
 * A port of Hive 4.0's BaseSemanticAnalyzer.unescapeSQLString, quirks kept
 * (octal escapes of 3 digits led by 0 or 1, its broken \u decoding, \% and \_
 * kept with their backslash), so the tests check what Hive actually reads.
 */
function hiveUnescape(b: string): string {
  const multiplier = [1000, 100, 10, 1];
  let enclosure: string | null = null;
  let sb = '';
  for (let i = 0; i < b.length; i++) {
    const current = b[i]!;
    if (enclosure === null) {
      if (current === "'" || current === '"') enclosure = current;
      continue;
    }
    if (current === enclosure) {
      enclosure = null;
      continue;
    }
    if (current === '\\' && i + 6 < b.length && b[i + 1] === 'u') {
      let code = 0;
      for (let j = 0; j < 4; j++) code += Number.parseInt(b[i + 2 + j]!, 16) * multiplier[j]!;
      sb += String.fromCharCode(code);
      i += 5;
      continue;
    }
    if (current === '\\' && i + 4 < b.length) {
      const [i1, i2, i3] = [b[i + 1]!, b[i + 2]!, b[i + 3]!];
      if (i1 >= '0' && i1 <= '1' && i2 >= '0' && i2 <= '7' && i3 >= '0' && i3 <= '7') {
        sb += String.fromCharCode(Number.parseInt(i1 + i2 + i3, 8));
        i += 3;
        continue;
      }
    }
    if (current === '\\' && i + 2 < b.length) {
      const n = b[i + 1]!;
      const escapes: Record<string, string> = {
        '0': '\0',
        "'": "'",
        '"': '"',
        b: '\b',
        n: '\n',
        r: '\r',
        t: '\t',
        Z: '\u001a',
        '\\': '\\',
        '%': '\\%',
        _: '\\_',
      };
      sb += escapes[n] ?? n;
      i++;
    } else {
      sb += current;
    }
  }
  return sb;
}

/** Hive's lexer rule for one single-quoted StringLiteral token. */
const HIVE_STRING_TOKEN = /^'(?:[^'\\]|\\[\s\S])*'$/u;
/** HiveServer2's variable substitution pattern (SystemVariables.varPat). */
const HIVE_VARIABLE = /\$\{[^}$ ]+\}/;

const hostile = [
  "O'Reilly",
  "'; DROP TABLE events; --",
  '\\',
  "\\'",
  'back\\slash at end\\',
  '-- comment',
  '/* block */',
  '${env:HOME}',
  '${system:user.name}',
  '${hiveconf:hive.server2.thrift.port}',
  '$${x}',
  '\0' + '12',
  '\\012',
  '\\u0041',
  '100%_done\\%',
  'line\nbreak\r\ttab',
  'emoji 🎉 日本語 ñ',
  '"double" `tick`',
  '?',
  '',
];

describe('hiveStringLiteral', () => {
  it.each(hostile)('Hive reads %j back unchanged, as one token, with no variable to substitute', (value) => {
    const literal = hiveStringLiteral(value);
    expect(literal).toMatch(HIVE_STRING_TOKEN);
    expect(literal).not.toMatch(HIVE_VARIABLE);
    expect(hiveUnescape(literal)).toBe(value);
  });

  it('round-trips any well-formed string (seeded property test)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (value) => {
        const literal = hiveStringLiteral(value);
        expect(literal).toMatch(HIVE_STRING_TOKEN);
        expect(literal).not.toMatch(HIVE_VARIABLE);
        expect(hiveUnescape(literal)).toBe(value);
      }),
      { seed: 20261125, numRuns: 1000 },
    );
  });

  it('refuses lone surrogates', () => {
    expect(() => hiveStringLiteral('a\uD800b')).toThrow(CatalogError);
  });
});

describe('hiveLiteral', () => {
  it('writes each kind of value', () => {
    expect(hiveLiteral(null)).toBe('NULL');
    expect(hiveLiteral(true)).toBe('TRUE');
    expect(hiveLiteral(false)).toBe('FALSE');
    expect(hiveLiteral(42)).toBe('42');
    expect(hiveLiteral(-1)).toBe('(-1)');
    expect(hiveLiteral(-0)).toBe('0');
    expect(hiveLiteral(0.5)).toBe('0.5');
    expect(hiveLiteral(1e21)).toBe('1e+21');
    expect(hiveLiteral(9007199254740993n)).toBe('9007199254740993');
    expect(hiveLiteral(-5n)).toBe('(-5)');
    expect(hiveLiteral(new Date('2026-11-25T09:08:07.006Z'))).toBe("TIMESTAMP '2026-11-25 09:08:07.006'");
  });

  it('refuses values Hive cannot read back exactly', () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2n ** 63n,
      new Date(Number.NaN),
      new Date('+010000-01-01'),
    ]) {
      expect(() => hiveLiteral(bad)).toThrow(CatalogError);
    }
  });
});

describe('bindHiveParams', () => {
  it('binds placeholders in order and leaves quoted text and comments alone', () => {
    const sql = "SELECT '?', \"?\", `a?` FROM t -- what?\nWHERE a = ? /* ? */ AND b = ? AND c = 'it''s?'";
    expect(placeholderPositions(sql)).toHaveLength(2);
    expect(bindHiveParams(sql, ["x'y", 3])).toBe(
      "SELECT '?', \"?\", `a?` FROM t -- what?\nWHERE a = 'x\\'y' /* ? */ AND b = 3 AND c = 'it''s?'",
    );
  });

  it('skips backslash-escaped quotes inside literals', () => {
    expect(placeholderPositions("SELECT 'a\\'?' , ?")).toEqual([16]);
  });

  it('keeps a negative number from starting a comment', () => {
    expect(bindHiveParams('SELECT 1-?', [-1])).toBe('SELECT 1-(-1)');
  });

  it('requires exactly one parameter per placeholder', () => {
    expect(() => bindHiveParams('SELECT ?', [])).toThrow(/1 placeholders but 0/);
    expect(() => bindHiveParams('SELECT 1', [1])).toThrow(/0 placeholders but 1/);
    expect(() => bindHiveParams("SELECT 'open", [])).toThrow(/unterminated/);
  });
});
