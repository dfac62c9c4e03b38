import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repairLoneSurrogates } from '../../shared/json-unicode.ts';
import { jsonTextDeeperThan, scanBatchText } from './json-guard.ts';

/** JSON text as clients may write it: any spacing, escapes, numbers with exponents. */
const ws = fc.constantFrom('', ' ', '\n  ', '\t');
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc
    .tuple(
      fc.integer({ min: -99, max: 99 }),
      fc.constantFrom('e', 'E', 'e+', 'e-'),
      fc.integer({ min: 0, max: 400 }),
    )
    .map(([m, e, x]) => `${m}${e}${x}`),
  fc.constantFrom('-0', '1.50', '0.0000001', '123456789012345678901234', '1E5', '1e21', '5e-324'),
);
const stringText = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s).slice(1, -1)),
      fc.constantFrom('\\u00e9', '\\/', '\\"', '\\\\', '\\ud800', '\\u0001', '\\n', 'é', '😀'),
    ),
    { maxLength: 4 },
  )
  .map((parts) => `"${parts.join('')}"`);
const { value: valueText } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null'),
    fc
      .array(fc.tuple(ws, tie('value'), ws), { maxLength: 4 })
      .map((items) => `[${items.map(([a, v, b]) => a + v + b).join(',')}]`),
    fc
      .array(fc.tuple(stringText, ws, tie('value')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, s, v]) => `${k}${s}:${s}${v}`).join(',')}}`),
  ),
}));
const batchBody = fc
  .tuple(fc.array(fc.tuple(ws, valueText, ws), { maxLength: 6 }), fc.option(stringText), ws, fc.boolean())
  .map(([items, extraKey, space, keyFirst]) => {
    const batch = `"batch"${space}:${space}[${items.map(([a, v, b]) => a + v + b).join(',')}]`;
    const extra = extraKey === null ? [] : [`${extraKey}:[1e5,{"batch":[1]}]`];
    return `{${(keyFirst ? [batch, ...extra] : [...extra, batch]).join(',')}}`;
  });

/** The depth check as first written, one character at a time: the reference for the indexOf version. */
function referenceDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (++depth > maxDepth) return true;
    } else if (ch === '}' || ch === ']') depth--;
  }
  return false;
}

describe('jsonTextDeeperThan', () => {
  it('agrees with the character-by-character scan on any text, malformed too', () => {
    const soup = fc.string({
      unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ' ', ','),
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.oneof(soup, batchBody), fc.integer({ min: 0, max: 6 }), (text, maxDepth) => {
        expect(jsonTextDeeperThan(text, maxDepth)).toBe(referenceDeeperThan(text, maxDepth));
        expect(scanBatchText(text, maxDepth).tooDeep).toBe(referenceDeeperThan(text, maxDepth));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('scanBatchText', () => {
  it('bounds every batch event’s JSON.stringify length and agrees with the depth check', () => {
    fc.assert(
      fc.property(batchBody, fc.integer({ min: 1, max: 8 }), (text, maxDepth) => {
        const scan = scanBatchText(text, maxDepth);
        expect(scan.tooDeep).toBe(jsonTextDeeperThan(text, maxDepth));
        if (scan.tooDeep) return;
        const parsed = repairLoneSurrogates(JSON.parse(text)) as { batch: unknown[] };
        if (scan.eventBounds === undefined) return;
        expect(scan.eventBounds).toHaveLength(parsed.batch.length);
        parsed.batch.forEach((event, i) => {
          expect(JSON.stringify(event).length).toBeLessThanOrEqual(scan.eventBounds![i]!);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the last `batch` key, as JSON.parse does, and gives up on escaped keys', () => {
    const text = '{"batch":[{"a":"long long long"}],"batch":[ 1 , [2,3] ]}';
    expect(scanBatchText(text, 64).eventBounds).toEqual([3, 7]);
    expect(
      scanBatchText('{"batch":[1],"b\\u0061tch":[{"x":"yyyyyyyyyyyy"}]}', 64).eventBounds,
    ).toBeUndefined();
    expect(scanBatchText('{"batch":[]}', 64).eventBounds).toEqual([]);
    expect(scanBatchText('{"batch":[1e400]}', 64).eventBounds![0]).toBeGreaterThanOrEqual(4);
  });
});
