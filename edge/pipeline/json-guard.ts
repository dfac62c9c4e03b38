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
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) {
      inString = true;
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The 400 for a body nested deeper than the limit; the message names the setting. */
export function tooDeep(maxDepth: number): InputError {
  return new InputError(
    `Events may nest objects and arrays at most ${maxDepth} levels deep (limits.maxDepth); this body goes deeper.`,
    { status: 400, code: 'too_deep' },
  );
}
