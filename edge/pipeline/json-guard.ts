/**
 * @module What the JSON of a request may hold before any code that recurses
 * or writes to the warehouse sees it (edge/README.md, "Nesting and Unicode").
 *
 * Depth: `JSON.stringify` (the sinks, the size check), zod and the loader
 * all recurse, and overflow the stack somewhere past 5,000 levels (a 500, or
 * a 503 that makes the client retry the same body forever). So the nesting of
 * objects and arrays is measured on the text, before `JSON.parse`, by a
 * linear scan with a counter: nothing recurses before the limit holds.
 * (V8's JSON.parse is itself iterative: Node 24 parses a million levels
 * without overflowing; the scan also spares building such a value at all.)
 *
 * Unicode: a lone surrogate (`"\udbff"`) is repaired to U+FFFD rather than
 * refused, so the event keeps its other fields (shared/json-unicode.ts, the
 * rule the loader applies too). NUL (U+0000) is a valid character that
 * Kafka, Parquet, DuckDB and Hive all hold, so it is kept as sent.
 */
import { InputError } from '../../shared/errors.ts';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether objects and arrays in JSON `text` nest deeper than `maxDepth` (a
 * top-level `{}` is level 1). Brackets inside strings do not count. Linear,
 * no recursion, no allocation; malformed text is left for JSON.parse to refuse.
 */
export function jsonTextDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      i = stringEnd(text, i);
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Index of the quote that closes the string opening at `open` (text.length
 * when none does): the first quote after it not escaped by an odd run of
 * backslashes. indexOf skips the string's characters natively; most of an
 * analytics event's text is strings (URLs, user agents).
 */
function stringEnd(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

const COMMA = 0x2c;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
/** Longest text JSON.stringify writes for a number (`-2.2250738585072014e-308`), plus one. */
const NUMBER_TEXT_MAX = 25;

export interface BatchTextScan {
  /** Objects and arrays nest deeper than the limit (as jsonTextDeeperThan). */
  tooDeep: boolean;
  /**
   * For each element of the top-level object's `batch` array, an upper bound
   * on the length (UTF-16 units) of `JSON.stringify` of that element once
   * parsed; undefined when the text does not let the scan say for sure (a
   * top-level key written with escapes, which could spell `batch`).
   */
  eventBounds: number[] | undefined;
}

/**
 * One linear pass over a batch body's text: the depth check of
 * jsonTextDeeperThan and, on the way, a bound on each event's JSON size, so
 * the per-event size check needs no JSON.stringify of events that are far
 * below the limit (the edge would otherwise serialise every event twice).
 *
 * Why the span of an element's text bounds its JSON.stringify length:
 * stringify drops whitespace and duplicate keys, writes strings with no
 * longer escapes than JSON text must already use (`"`, `\`, control
 * characters; a lone surrogate becomes one U+FFFD), and writes a number
 * without an exponent in at most as many characters as the text had. Only a
 * number written with an exponent can grow (`1e21` → `1e+21`, `1E5` →
 * `100000`), to at most NUMBER_TEXT_MAX characters: each `e`/`E` outside
 * strings adds that much to the bound. Malformed text is left for JSON.parse.
 */
export function scanBatchText(text: string, maxDepth: number): BatchTextScan {
  let depth = 0;
  /** Where the last string at depth 1 began and ended (the key of the value that follows). */
  let keyStart = -1;
  let keyEnd = -1;
  let reliable = true;
  let inBatch = false;
  let bounds: number[] | undefined;
  let elementStart = 0;
  let exponents = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1) {
        keyStart = i + 1;
        keyEnd = end;
        const backslash = text.indexOf('\\', keyStart);
        if (backslash >= 0 && backslash < end) reliable = false;
      }
      i = end;
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > maxDepth) return { tooDeep: true, eventBounds: undefined };
      if (
        depth === 2 &&
        ch === OPEN_BRACKET &&
        keyEnd - keyStart === 5 &&
        text.startsWith('batch', keyStart)
      ) {
        // A later `batch` key wins in JSON.parse: so does its array here.
        inBatch = true;
        bounds = [];
        elementStart = i + 1;
        exponents = 0;
      }
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
      if (inBatch && depth === 1) {
        inBatch = false;
        if (text.slice(elementStart, i).trim() !== '') {
          bounds!.push(i - elementStart + exponents * NUMBER_TEXT_MAX);
        }
      }
    } else if (inBatch) {
      if (ch === COMMA && depth === 2) {
        bounds!.push(i - elementStart + exponents * NUMBER_TEXT_MAX);
        elementStart = i + 1;
        exponents = 0;
      } else if (ch === LOWER_E || ch === UPPER_E) {
        exponents++;
      }
    }
  }
  return { tooDeep: false, eventBounds: reliable ? bounds : undefined };
}

/** The 400 for a body nested deeper than the limit; the message names the setting. */
export function tooDeep(maxDepth: number): InputError {
  return new InputError(
    `Events may nest objects and arrays at most ${maxDepth} levels deep (limits.maxDepth); this body goes deeper.`,
    { status: 400, code: 'too_deep' },
  );
}
