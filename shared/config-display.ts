/**
 * @module What a deployable's `--check` prints: its resolved configuration as
 * JSON with every credential hidden (secret-display.ts: write and read keys as
 * fingerprints, secrets as `***`), so the output can be pasted into a ticket
 * or left in a CI log and still tells which keys are set. `false` (a feature
 * turned off) stays visible.
 */
import { hideSecrets } from './secret-display.ts';

/** Pretty JSON of `config`, every credential shown as secret-display.ts says. */
export function configForDisplay(config: unknown): string {
  return `${JSON.stringify(config, hideSecrets, 2)}\n`;
}
