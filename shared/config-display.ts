/**
 * @module What a deployable's `--check` prints: its resolved configuration as
 * JSON with every credential hidden, so the output can be pasted into a
 * ticket or left in a CI log. Hidden values keep their shape (a list of three
 * keys shows three `***`), so a check still shows how many keys are set.
 */

/** Names of settings that hold credentials: salts, secrets, passwords, tokens, and projects' write and read keys. */
const CREDENTIAL_NAME = /secret|password|salt|token|^(write|read)Keys$/i;

const hide = (value: unknown): unknown => (Array.isArray(value) ? value.map(() => '***') : '***');

/** Pretty JSON of `config`, every credential replaced by `***`; `false` (a feature turned off) stays visible. */
export function configForDisplay(config: unknown): string {
  const json = JSON.stringify(
    config,
    (name, value: unknown) =>
      CREDENTIAL_NAME.test(name) && value !== undefined && value !== false ? hide(value) : value,
    2,
  );
  return `${json}\n`;
}
