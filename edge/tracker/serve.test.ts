import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fakeBrowser } from './fake-browser.ts';
import { GZIP_BUDGET_BYTES, gzippedSize, trackerScript } from './serve.ts';
import type { Tracker } from './tracker.ts';

describe('t.js', () => {
  it(`stays under the ${GZIP_BUDGET_BYTES}-byte gzip budget`, async () => {
    const code = await trackerScript();
    const size = gzippedSize(code);
    expect(size, `t.js is ${size} bytes gzipped (${code.length} minified)`).toBeLessThanOrEqual(
      GZIP_BUDGET_BYTES,
    );
  });

  it('is one minified IIFE that never builds a JSON Blob (a cross-origin beacon would need a preflight)', async () => {
    const code = await trackerScript();
    expect(code.startsWith('"use strict";(()=>{')).toBe(true);
    expect(code).not.toMatch(/application\/json|new Blob|import\s*\(|export\s/);
    expect(code.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('is built once per process', async () => {
    expect(trackerScript()).toBe(trackerScript());
    expect(await trackerScript()).toBe(await trackerScript());
  });

  it('reads its settings from the script tag, replays the stub queue, then records the page view', async () => {
    const browser = fakeBrowser();
    const script = {
      src: 'https://edge.example:8443/t.js',
      dataset: { writeKey: 'wk_tag', flushAt: '3' } as Record<string, string>,
    };
    // The stub snippet from README.md: calls made before t.js arrived.
    const stub: unknown[] = [
      ['identify', 'user-9', { plan: 'pro' }],
      ['track', 'Early click', { n: 1 }],
    ];
    const window = { ...browser.window, beacon: stub };
    const document = { ...browser.window.document, currentScript: script };
    const globals = { window, document, URL, URLSearchParams, TextEncoder, setTimeout, clearTimeout };
    runInNewContext(await trackerScript(), globals);

    const tracker = window.beacon as unknown as Tracker;
    expect(typeof tracker.track).toBe('function');
    // flushAt=3 from the tag: identify, track and the page view went out together.
    await new Promise((resolve) => setImmediate(resolve));
    expect(browser.requests).toHaveLength(1);
    expect(browser.requests[0]).toMatchObject({
      url: 'https://edge.example:8443/v1/batch',
      writeKey: 'wk_tag',
    });
    expect(browser.requests[0]!.batch.map((e) => [e.type, e.userId])).toEqual([
      ['identify', 'user-9'],
      ['track', 'user-9'],
      ['page', 'user-9'],
    ]);
  });
});
