/**
 * @module The t.js text module the Worker imports (worker-runtime.ts), written by the
 * tests' global setup (Node side) the way wrangler's [build] command writes it for
 * `wrangler dev` and deploy: the same esbuild bundle the Node edge serves (tracker/serve.ts).
 * Nothing generated is committed, so a clean clone builds it here first.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTrackerScript } from '../../tracker/serve.ts';

// `.href`: checked with Workers' globals, whose URL is not Node's.
const TRACKER_MODULE = fileURLToPath(new URL('../generated/t.js.txt', import.meta.url).href);

/** Builds t.js into the module path (atomically: a parallel run never reads half a file); returns it. */
export async function writeTrackerModule(): Promise<string> {
  const code = await buildTrackerScript();
  await mkdir(dirname(TRACKER_MODULE), { recursive: true });
  const partial = `${TRACKER_MODULE}.${process.pid}.tmp`;
  await writeFile(partial, code);
  await rename(partial, TRACKER_MODULE);
  return code;
}
