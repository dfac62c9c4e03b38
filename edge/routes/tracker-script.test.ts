import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeEdge } from '../testing/edge-fixture.ts';
import { TRACKER_CACHE_CONTROL, TRACKER_CONTENT_TYPE } from './tracker-script.ts';

// Long enough for compress()'s 1 KB threshold, like the real 4 KB bundle.
const SOURCE = `"use strict";(()=>{${'var beacon=1;'.repeat(200)}})();`;

function edgeServing(source: () => Promise<string>) {
  return makeEdge({ trackerScript: source }).app;
}

describe('GET /t.js', () => {
  it("serves the runtime's tracker as JavaScript, cacheable for five minutes, with a strong ETag", async () => {
    const app = edgeServing(async () => SOURCE);
    const res = await app.request('/t.js', { headers: { 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TRACKER_CONTENT_TYPE);
    expect(res.headers.get('cache-control')).toBe(TRACKER_CACHE_CONTROL);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await res.text()).toBe(SOURCE);
  });

  it('gzips for clients that accept it, with a weak ETag and Vary', async () => {
    const app = edgeServing(async () => SOURCE);
    const res = await app.request('/t.js', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(res.headers.get('etag')).toMatch(/^W\/"[0-9a-f]{32}"$/);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBeLessThan(SOURCE.length / 4);
    expect(gunzipSync(body).toString('utf8')).toBe(SOURCE);
  });

  it('answers 304 to the ETag the client holds, compressed or not, and 200 once the source changes', async () => {
    let source = SOURCE;
    const app = edgeServing(async () => source);
    const plain = (await app.request('/t.js', { headers: { 'accept-encoding': 'identity' } })).headers.get(
      'etag',
    )!;
    const zipped = (await app.request('/t.js', { headers: { 'accept-encoding': 'gzip' } })).headers.get(
      'etag',
    )!;
    for (const [tag, encoding] of [
      [plain, 'identity'],
      [zipped, 'gzip'],
    ] as const) {
      const res = await app.request('/t.js', {
        headers: { 'if-none-match': tag, 'accept-encoding': encoding },
      });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('cache-control')).toBe(TRACKER_CACHE_CONTROL);
    }

    source = `${SOURCE}//fixed`;
    const changed = await app.request('/t.js', {
      headers: { 'if-none-match': plain, 'accept-encoding': 'identity' },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(plain);
    expect(await changed.text()).toBe(source);
  });

  it('answers HEAD without a body', async () => {
    const app = edgeServing(async () => SOURCE);
    const res = await app.request('/t.js', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TRACKER_CONTENT_TYPE);
    expect(await res.text()).toBe('');
  });

  it('is a JSON 404 when the runtime provides no tracker', async () => {
    const { app } = makeEdge();
    const res = await app.request('/t.js');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
