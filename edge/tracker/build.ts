/**
 * @module `npm run build:tracker [-- --out <file>]`: builds t.js, prints its size against
 * the gzip budget (exit 1 when over), and writes it out for runtimes that cannot bundle at
 * run time (Workers: import the file as text) or for a CDN. The Node edge needs none of
 * this: it builds t.js in memory (serve.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { buildTrackerScript, GZIP_BUDGET_BYTES, gzippedSize } from './serve.ts';

await new Command('build:tracker')
  .description('bundle the browser tracker (t.js) and check its gzipped size')
  .option('-o, --out <file>', 'also write t.js to this file')
  .action(async ({ out }: { out?: string }) => {
    const code = await buildTrackerScript();
    const gzipped = gzippedSize(code);
    console.log(
      `t.js: ${code.length} bytes minified, ${gzipped} bytes gzipped (budget ${GZIP_BUDGET_BYTES})`,
    );
    if (out) {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, code);
      console.log(`wrote ${out}`);
    }
    if (gzipped > GZIP_BUDGET_BYTES) process.exitCode = 1;
  })
  .parseAsync();
