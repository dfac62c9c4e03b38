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
 * Unicode: a lone surrogate (`"\udbff"`) is valid JSON and a valid JS string,
 * but not Unicode: UTF-8 cannot encode it, DuckDB refuses the file it lands
 * in and the loader would stall on it. It is repaired to U+FFFD, as
 * `String.prototype.toWellFormed` does and as the UTF-8 decoder already does
 * for invalid bytes, rather than refused: the event keeps its other fields.
 * NUL (U+0000) is a valid character that Kafka, Parquet, DuckDB and Hive all
 * hold, so it is kept as sent.
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

/**
 * A lone surrogate can only come from a `\uD800`–`\uDFFF` escape: the UTF-8
 * decoder never produces one. Without such an escape in the text (nearly every
 * request), the parsed value needs no walk.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

export function mayHoldLoneSurrogates(text: string): boolean {
  return SURROGATE_ESCAPE.test(text);
}

/**
 * Makes every string and object key in a parsed JSON value well-formed, in
 * place (lone surrogates become U+FFFD); returns the value (a string at the
 * top is returned repaired). An explicit stack, not recursion: it is also
 * safe on values that were never depth-checked.
 */
export function repairLoneSurrogates(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  const stack: object[] = [];
  if (value !== null && typeof value === 'object') stack.push(value);
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = visit(node[i], stack);
      continue;
    }
    const record = node as Record<string, unknown>;
    const keys = Object.keys(record);
    let badKey = false;
    for (const key of keys) {
      record[key] = visit(record[key], stack);
      if (!key.isWellFormed()) badKey = true;
    }
    if (badKey) rekey(record, keys);
  }
  return value;
}

function visit(item: unknown, stack: object[]): unknown {
  if (typeof item === 'string') return item.isWellFormed() ? item : item.toWellFormed();
  if (item !== null && typeof item === 'object') stack.push(item);
  return item;
}

/**
 * Re-adds every key in its order, repaired. defineProperty, not assignment:
 * JSON.parse makes `__proto__` an own key, and assigning it would set the
 * prototype. Two keys that repair to the same text keep the later value, as
 * duplicate keys in JSON do.
 */
function rekey(record: Record<string, unknown>, keys: string[]): void {
  const entries = keys.map((key) => [key.toWellFormed(), record[key]] as const);
  for (const key of keys) delete record[key];
  for (const [key, value] of entries) {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  }
}
