/**
 * @module GET /t.js: the browser tracker (edge/tracker/), when the runtime
 * provides its source (`deps.trackerScript`). Browsers and CDNs keep it five
 * minutes, so a fix reaches every visitor soon, then revalidate it by ETag
 * (a 304 without the body); it goes gzipped when the client accepts it
 * (about 2 KB instead of 4). Without a source, a JSON 404 that says so.
 */
import type { Hono } from 'hono';
import { compress } from 'hono/compress';
import { etag } from 'hono/etag';
import type { EdgeDeps, EdgeEnv } from '../deps.ts';
import { errorBody } from '../error-response.ts';
import { toHex } from '../pipeline/ip-hash.ts';

export const TRACKER_CONTENT_TYPE = 'text/javascript; charset=utf-8';
export const TRACKER_CACHE_CONTROL = 'public, max-age=300';

export function registerTrackerScriptRoute(app: Hono<EdgeEnv>, deps: EdgeDeps): void {
  const source = deps.trackerScript;
  // The source only changes with a new build: hash it once, not per request.
  let tagged: { code: string; etag: Promise<string> } | undefined;
  const etagOf = (code: string) => {
    if (tagged?.code !== code) tagged = { code, etag: contentTag(code) };
    return tagged.etag;
  };

  // etag() outside compress(): a 304 answers the tag the client holds (weak once compressed).
  app.get('/t.js', etag(), compress(), async (c) => {
    c.set('route', 'tracker');
    if (!source) {
      return c.json(
        errorBody(
          'not_found',
          'This edge does not serve the tracker; build it with `npm run build:tracker -- --out <file>` and serve that file.',
        ),
        404,
      );
    }
    const code = await source();
    return c.body(code, 200, {
      'content-type': TRACKER_CONTENT_TYPE,
      'cache-control': TRACKER_CACHE_CONTROL,
      etag: await etagOf(code),
    });
  });
}

/** A strong validator: the first 128 bits of the source's SHA-256 (Web Crypto: Node and Workers). */
async function contentTag(code: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(code));
  return `"${toHex(new Uint8Array(digest, 0, 16))}"`;
}
