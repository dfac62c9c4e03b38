/**
 * @module Builds the script-tag bundle `/t.js` for the edge to serve: tracker.ts and
 * auto-init.ts bundled by esbuild into one minified IIFE, in memory, once per process.
 * Nothing built is committed, so the served script can never be older than its source.
 * Runtimes that cannot run esbuild (Workers) take the file `npm run build:tracker` writes.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget README.md states; serve.test.ts fails when the bundle outgrows it. */
export const GZIP_BUDGET_BYTES = 3 * 1024;

// `.href`: the Worker's tests import this (through node.ts) under Workers' globals, whose URL is not Node's.
const ENTRY = fileURLToPath(new URL('./auto-init.ts', import.meta.url).href);

/** Bundles t.js afresh (about 20 ms). Most callers want `trackerScript()`. */
export async function buildTrackerScript(): Promise<string> {
  // Imported here, not at the top: importing the edge must not load esbuild until /t.js is asked for.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    // ?. and ?? as written (Chrome 80, Firefox 74, Safari 13.1): transpiling them costs bytes.
    target: 'es2020',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

let cached: Promise<string> | undefined;

/** The t.js source, built on first call and kept for the life of the process. */
export function trackerScript(): Promise<string> {
  cached ??= buildTrackerScript().catch((error: unknown) => {
    cached = undefined; // let the next request try again rather than cache a failure
    throw error;
  });
  return cached;
}

/** Bytes on the wire with gzip (level 9), the figure the budget is about. */
export function gzippedSize(code: string): number {
  return gzipSync(code, { level: 9 }).length;
}
