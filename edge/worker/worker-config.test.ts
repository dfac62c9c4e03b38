import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from './worker.ts';
import { type Env, parseWorkerConfig, WorkerConfigError } from './worker-config.ts';

/** What the runtime hands fetch(): a Request with Cloudflare's `cf`. */
type IncomingRequest = Parameters<typeof worker.fetch>[0];

const base: Env = {
  EVENTS_QUEUE: env.EVENTS_QUEUE,
  PROJECTS: '[{"id": "p", "writeKeys": ["wk_p_0123456789"]}]',
  REGIONS: { regions: { eu: ['https://eu.relay.test'] }, default: 'eu' },
  IP_SALT: 'salt-salt-salt-salt',
  RELAY_SECRET: 'secret-secret-secret',
};

describe('parseWorkerConfig', () => {
  it('takes JSON vars as text (secrets, --var) or as objects (TOML tables), with defaults', () => {
    const config = parseWorkerConfig(base);
    expect(config.projects[0]?.id).toBe('p');
    expect(config.regions.default).toBe('eu');
    expect(config.limits.maxEventBytes).toBe(32 * 1024);
    expect(config.relay).toEqual({
      timeoutMs: 10_000,
      maxBodyBytes: 1024 * 1024,
      retryBaseSeconds: 5,
      retryMaxSeconds: 900,
    });
    expect(config.logLevel).toBe('info');
  });

  it('names the binding to fix', () => {
    const attempt = (overrides: Partial<Env>) => () => parseWorkerConfig({ ...base, ...overrides });
    expect(attempt({ IP_SALT: 'short' })).toThrow(/IP_SALT/);
    expect(attempt({ RELAY_SECRET: undefined as unknown as string })).toThrow(/RELAY_SECRET/);
    expect(attempt({ PROJECTS: '[{"id": "p"' })).toThrow(/PROJECTS/);
    expect(attempt({ REGIONS: { regions: { eu: [] }, default: 'eu' } })).toThrow(WorkerConfigError);
    // A 120 KB event could not fit one 128 KB queue message with its envelope.
    expect(attempt({ LIMITS: { maxEventBytes: 120_000 } })).toThrow(/maxEventBytes/);
  });
});

describe('a Worker with a broken configuration', () => {
  it('answers 503 with Retry-After, so SDKs keep the events and retry', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request('https://edge.test/v1/track', { method: 'POST', body: '{}' }) as IncomingRequest,
      { ...env, IP_SALT: 'short' },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(await response.json()).toEqual({
      error: { code: 'misconfigured', message: 'The collector is misconfigured; retry later.' },
    });
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/IP_SALT/);
    logged.mockRestore();
  });
});
