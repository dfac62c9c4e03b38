/**
 * GET /t.js from the Worker: the text module the global setup built from
 * edge/tracker, served by the shared app with the Node edge's headers.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';

describe('GET /t.js', () => {
  it('serves the tracker bundle as JavaScript, cacheable for five minutes, with an ETag', async () => {
    const response = await SELF.fetch('https://edge.test/t.js', {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await response.text()).toBe(inject('trackerScript'));
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await SELF.fetch('https://edge.test/t.js');
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const again = await SELF.fetch('https://edge.test/t.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('cache-control')).toBe('public, max-age=300');
  });
});
