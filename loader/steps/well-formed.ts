/**
 * @module Unicode the warehouse can hold. JSON may carry a lone UTF-16
 * surrogate as an escape (`"\udbff"`): valid JSON, but not a Unicode string,
 * and DuckDB refuses the whole NDJSON file that holds one. The edge repairs
 * such strings before they reach the bus; the loader repairs them the same
 * way (each lone surrogate becomes U+FFFD, as String.prototype.toWellFormed
 * does) for whatever reached the bus without that edge, so one message can
 * never stop a load. Invalid UTF-8 bytes need nothing here: TextDecoder
 * already turns them into U+FFFD.
 */

/** Whether JSON text may hold a surrogate escape (most never does: a cheap test before a walk). */
export function maySurrogateEscape(json: string): boolean {
  return /\\u[dD][89a-fA-F]/.test(json);
}

/**
 * Replaces lone surrogates in every string and key of a parsed JSON value, in
 * place where it can; walks with an explicit stack, so depth cannot overflow
 * the call stack. Returns the value (a new string when the value itself was one).
 */
export function wellFormedDeep(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = v.toWellFormed();
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
      continue;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      const fixedKey = key.toWellFormed();
      const fixed = typeof v === 'string' ? v.toWellFormed() : v;
      if (fixedKey !== key) {
        delete record[key];
        record[fixedKey] = fixed;
      } else if (fixed !== v) {
        record[key] = fixed;
      }
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  return value;
}
