/**
 * @module Unicode the warehouse can hold, for the edge and the loader alike.
 * A lone surrogate (`"\udbff"`) is valid JSON and a valid JS string, but not
 * Unicode: UTF-8 cannot encode it, and DuckDB refuses the whole file it lands
 * in, so one such event would stall every load. It is repaired to U+FFFD, as
 * `String.prototype.toWellFormed` does and as the UTF-8 decoder already does
 * for invalid bytes: the edge repairs what it accepts, the loader repairs
 * whatever reached the bus without that edge.
 */

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
