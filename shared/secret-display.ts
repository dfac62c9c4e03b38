/**
 * @module How keys and secrets appear wherever a person reads them (`npm
 * start -- --check`, every log line): a write or read key as a short
 * fingerprint, `wk_demo_…3f9a1c2e` (its readable prefix, if any, and the first
 * 8 hex digits of its SHA-256), so two keys can be told apart and one can be
 * found again (`printf %s "$KEY" | sha256sum`) without the output granting
 * access; a secret (relay secret, IP salt, passwords, tokens) as `***`, since
 * a hash prefix of a weak password helps guess it.
 */
import { createHash } from 'node:crypto';

/** `wk_demo_`, `rk_live_`: a key's kind and project, when it starts with them. */
const READABLE_PREFIX = /^[A-Za-z]{1,4}_[A-Za-z0-9-]{1,16}_/;

export function keyFingerprint(key: string): string {
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const prefix = READABLE_PREFIX.exec(key)?.[0] ?? '';
  // A prefix that is most of the key would show most of it.
  const shown = key.length - prefix.length >= 12 ? prefix : '';
  return `${shown}…${digest}`;
}

/** Fields holding write or read keys (one, or a list). */
const KEY_FIELDS = ['writeKey', 'readKey', 'writeKeys', 'readKeys'] as const;
/** Fields holding secrets, by name. */
const SECRET_FIELD = /secret|password|salt|token|authorization/i;

/** A field's value as shown: fingerprints for keys, `***` for secrets, anything else as is. */
export function displayValue(field: string, value: unknown): unknown {
  if ((KEY_FIELDS as readonly string[]).includes(field)) {
    if (typeof value === 'string') return keyFingerprint(value);
    if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? keyFingerprint(v) : v));
  }
  if (SECRET_FIELD.test(field) && typeof value === 'string') return '***';
  return value;
}

/** For JSON.stringify: the whole document with keys and secrets shown as `displayValue` says. */
export function hideSecrets(this: unknown, field: string, value: unknown): unknown {
  return displayValue(field, value);
}

/** pino's `redact` paths: these fields at the top of a log line and one level down. */
export const REDACTED_LOG_PATHS = [
  ...KEY_FIELDS,
  'relaySecret',
  'ipSalt',
  'controlToken',
  'secretAccessKey',
  'password',
  'authorization',
].flatMap((field) => [field, `*.${field}`]);
