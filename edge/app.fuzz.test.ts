/**
 * Fuzz of the whole HTTP API through app.request: whatever arrives, the
 * answer is a 2xx, 3xx or 4xx with a JSON error (never a 5xx, never a throw).
 * Seeded, so a failure replays; the same arbitraries run over real HTTP in
 * node.integration.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEdge, OPEN_KEY, SHOP_KEY } from './testing/edge-fixture.ts';
import { fuzzRequestArb } from './testing/fuzz-requests.ts';

describe('HTTP API fuzz', () => {
  it('never answers 5xx and every error is JSON {error: {code, message}}', async () => {
    const { app, sink } = makeEdge();
    await fc.assert(
      fc.asyncProperty(fuzzRequestArb([SHOP_KEY, OPEN_KEY]), async (r) => {
        const res = await app.request(`http://edge.test${r.path}`, {
          method: r.method,
          headers: r.headers,
          ...(r.body ? { body: r.body } : {}),
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400 && r.method !== 'HEAD') {
          const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof body.error?.code).toBe('string');
          expect(typeof body.error?.message).toBe('string');
        }
      }),
      { seed: 20261125, numRuns: 400 },
    );
    // Some requests got through to the sink, and none of them carries a raw address.
    expect(sink.events.length).toBeGreaterThan(0);
    for (const e of sink.events) expect(e.context ?? {}).not.toHaveProperty('ip');
  });
});
