/**
 * @module A tiny SQL builder whose only way to bring a value into a statement
 * is a bound `?` parameter. Identifiers and integers enter through
 * `identifier()` and `integerLiteral()`, which accept only what their patterns
 * allow; everything else interpolated into the `sql` tag becomes a parameter.
 * So user input can never become SQL text, whatever it contains.
 */
import type { SqlValue } from '../../shared/catalog/query-engine.ts';

/** SQL text with `?` placeholders and the values bound to them, in order. */
export class Statement {
  readonly text: string;
  readonly params: readonly SqlValue[];

  constructor(text: string, params: readonly SqlValue[]) {
    this.text = text;
    this.params = params;
  }
}

/**
 * Tagged template: nested `Statement`s are spliced in (their parameters with
 * them), any other value becomes a `?` with the value bound.
 */
export function sql(strings: TemplateStringsArray, ...values: (Statement | SqlValue)[]): Statement {
  let text = strings[0] ?? '';
  const params: SqlValue[] = [];
  values.forEach((value, i) => {
    if (value instanceof Statement) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1] ?? '';
  });
  return new Statement(text, params);
}

/** Plain and database-qualified names: letters, digits and underscores, no quoting needed. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$/;

/** A table or column name. Names come from code or validated config, never from a request. */
export function identifier(name: string): Statement {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return new Statement(name, []);
}

/** An integer written into the text, for places engines will not bind (LIMIT on Hive). */
export function integerLiteral(n: number): Statement {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return new Statement(String(n), []);
}

/** Statements joined by a separator that is itself fixed SQL text (', ', ' AND ', ' UNION ALL '). */
export function joinSql(
  parts: readonly Statement[],
  separator: ', ' | ' AND ' | ' OR ' | ' UNION ALL ',
): Statement {
  return new Statement(
    parts.map((p) => p.text).join(separator),
    parts.flatMap((p) => p.params),
  );
}
