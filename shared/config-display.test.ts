import { describe, expect, it } from 'vitest';
import { configForDisplay } from './config-display.ts';
import { keyFingerprint } from './secret-display.ts';

describe('configForDisplay', () => {
  it('shows keys as fingerprints, hides every secret, keeps everything else', () => {
    const shown = JSON.parse(
      configForDisplay({
        ipSalt: 'a-salt-of-16-chars',
        relaySecret: false,
        projects: [
          { id: 'acme', writeKeys: ['wk_1234567890abcdef', 'wk_2'], readKeys: ['rk_1234567890abcdef'] },
        ],
        store: { kind: 's3', accessKeyId: 'beacon', secretAccessKey: 'beacon-secret' },
        catalog: { kind: 'hive', password: 'pw' },
        controlToken: 'tok',
        limits: { rateLimitKeys: 100 },
      }),
    ) as Record<string, unknown>;
    expect(shown).toEqual({
      ipSalt: '***',
      relaySecret: false,
      projects: [
        {
          id: 'acme',
          writeKeys: [keyFingerprint('wk_1234567890abcdef'), keyFingerprint('wk_2')],
          readKeys: [keyFingerprint('rk_1234567890abcdef')],
        },
      ],
      store: { kind: 's3', accessKeyId: 'beacon', secretAccessKey: '***' },
      catalog: { kind: 'hive', password: '***' },
      controlToken: '***',
      limits: { rateLimitKeys: 100 },
    });
  });
});
