import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { displayValue, keyFingerprint } from './secret-display.ts';

const WRITE_KEY = 'wk_demo_Zx8QpL2mN4vB7cR1tY6u';
const READ_KEY = 'rk_demo_h3J9kL0pQ2wE5rT8yU1iO4aS';

describe('keyFingerprint', () => {
  it('shows the readable prefix and 8 hex digits of the SHA-256, never the secret part', () => {
    const shown = keyFingerprint(WRITE_KEY);
    expect(shown).toMatch(/^wk_demo_…[0-9a-f]{8}$/);
    expect(shown).not.toContain('Zx8Q');
    expect(keyFingerprint(WRITE_KEY)).toBe(shown);
    expect(keyFingerprint(`${WRITE_KEY}x`)).not.toBe(shown);
    // A key that is mostly prefix shows no prefix.
    expect(keyFingerprint('wk_site_0123')).toMatch(/^…[0-9a-f]{8}$/);
  });

  it('hides secrets by field name and leaves other values alone', () => {
    expect(displayValue('relaySecret', 'a-very-secret-value')).toBe('***');
    expect(displayValue('password', 'hunter2')).toBe('***');
    expect(displayValue('writeKeys', [WRITE_KEY])).toEqual([keyFingerprint(WRITE_KEY)]);
    expect(displayValue('port', 8080)).toBe(8080);
  });
});

describe('createLogger', () => {
  it('logs keys only as fingerprints and secrets as ***, at the top and one level down', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('t', 'info', sink);
    logger.info(
      {
        writeKey: WRITE_KEY,
        project: { id: 'demo', writeKeys: [WRITE_KEY], readKeys: [READ_KEY] },
        relaySecret: 'relay-secret-0123456789',
        auth: { controlToken: 'control-token-0123456789', authorization: `Bearer ${READ_KEY}` },
      },
      'hello',
    );
    const [line = ''] = lines;
    for (const secret of [WRITE_KEY, READ_KEY, 'relay-secret-0123456789', 'control-token-0123456789'])
      expect(line).not.toContain(secret);
    const entry = JSON.parse(line) as Record<string, Record<string, unknown>>;
    expect(entry.writeKey).toBe(keyFingerprint(WRITE_KEY));
    expect(entry.project).toEqual({
      id: 'demo',
      writeKeys: [keyFingerprint(WRITE_KEY)],
      readKeys: [keyFingerprint(READ_KEY)],
    });
    expect(entry.relaySecret).toBe('***');
    expect(entry.auth).toEqual({ controlToken: '***', authorization: '***' });
  });
});
