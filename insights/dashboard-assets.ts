/**
 * @module The dashboard's static files: the pages in insights/dashboard and
 * uPlot's ES module and stylesheet from node_modules. Only files listed at
 * start-up are served, so no request path ever reaches the filesystem.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=UTF-8',
  '.js': 'text/javascript; charset=UTF-8',
  '.css': 'text/css; charset=UTF-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

export interface DashboardAssets {
  /** URL paths served ('/', '/dashboard/app.js', '/vendor/uplot.esm.js', …). */
  readonly paths: readonly string[];
  get(urlPath: string): Promise<Asset | undefined>;
}

export function dashboardAssets(
  dashboardDir = join(dirname(fileURLToPath(import.meta.url)), 'dashboard'),
): DashboardAssets {
  const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  const files = new Map<string, string>([
    ['/', join(dashboardDir, 'index.html')],
    ['/vendor/uplot.esm.js', join(uplotDir, 'uPlot.esm.js')],
    ['/vendor/uplot.min.css', join(uplotDir, 'uPlot.min.css')],
  ]);
  for (const name of readdirSync(dashboardDir)) {
    if (CONTENT_TYPES[extname(name)] !== undefined && !name.endsWith('.test.js')) {
      files.set(`/dashboard/${name}`, join(dashboardDir, name));
    }
  }
  // Small files read once: the dashboard is a handful of kilobytes.
  const loaded = new Map<string, Promise<Asset>>();
  return {
    paths: [...files.keys()],
    get(urlPath) {
      const file = files.get(urlPath);
      if (file === undefined) return Promise.resolve(undefined);
      let asset = loaded.get(urlPath);
      if (asset === undefined) {
        asset = readFile(file).then((body) => ({
          body: new Uint8Array(body),
          contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        }));
        // A failed read is retried on the next request rather than cached.
        asset.catch(() => loaded.delete(urlPath));
        loaded.set(urlPath, asset);
      }
      return asset;
    },
  };
}
