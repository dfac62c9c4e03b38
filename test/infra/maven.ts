/**
 * @module Fetches a server's jars from Maven Central: `test/infra/<server>/pom.xml` lists
 * them, `mvn dependency:copy-dependencies` copies them into the cache under a directory keyed
 * by the pom's hash, and a marker file says the copy is complete. A second fetch with the
 * same pom downloads nothing and starts no Maven. Maven's local repository lives in the same
 * cache, so an empty BEACON_CACHE is a truly cold start.
 *
 * CLI: node test/infra/maven.ts <server>...   (prints each lib directory)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './cache-dir.ts';
import { withFileLock } from './file-lock.ts';

const infraDir = dirname(fileURLToPath(import.meta.url));
// Pinned so the plugin Maven resolves does not depend on the Maven version installed.
const COPY_DEPENDENCIES = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies';
const COMPLETE = '.complete';

export interface FetchJarsOptions {
  cache?: string;
  log?: (line: string) => void;
}

async function pomKey(server: string): Promise<{ pom: string; settings: string | undefined; key: string }> {
  const pom = join(infraDir, server, 'pom.xml');
  const settingsPath = join(infraDir, server, 'settings.xml');
  const settings = existsSync(settingsPath) ? settingsPath : undefined;
  const hash = createHash('sha256').update(await readFile(pom));
  if (settings) hash.update(await readFile(settings));
  return { pom, settings, key: `${server}-${hash.digest('hex').slice(0, 12)}` };
}

/** The directory holding the jars of `server` once fetched (whether or not it is yet). */
export async function jarsDir(server: string, cache = cacheDir()): Promise<string> {
  return join(cache, 'jars', (await pomKey(server)).key, 'lib');
}

async function directorySize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(dir)) {
    files += 1;
    bytes += (await stat(join(dir, name))).size;
  }
  return { files, bytes };
}

function runMaven(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (error) =>
      reject(new Error(`Could not run mvn (is Maven installed?): ${error.message}`)),
    );
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`mvn ${args.join(' ')} failed with exit code ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** Fetches (once) and returns the directory of `server`'s jars. */
export async function fetchJars(server: string, options: FetchJarsOptions = {}): Promise<string> {
  const cache = options.cache ?? cacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { pom, settings, key } = await pomKey(server);
  const dir = join(cache, 'jars', key);
  const lib = join(dir, 'lib');
  if (existsSync(join(dir, COMPLETE))) return lib;

  await mkdir(dir, { recursive: true });
  return withFileLock(
    join(dir, '.lock'),
    {
      timeoutMs: 30 * 60_000,
      onWait: (pid) => log(`[maven] ${server}: waiting for pid ${pid}, which fetches it`),
    },
    async () => {
      if (existsSync(join(dir, COMPLETE))) return lib;
      // Copy into a scratch directory and rename it: an interrupted fetch leaves no half lib.
      const partial = join(dir, `lib.partial-${process.pid}`);
      await rm(partial, { recursive: true, force: true });
      await rm(lib, { recursive: true, force: true });
      log(`[maven] ${server}: fetching jars into ${lib}`);
      const started = Date.now();
      await runMaven([
        '-q',
        '-B',
        '-f',
        pom,
        ...(settings ? ['-s', settings] : []),
        `-Dmaven.repo.local=${join(cache, 'm2')}`,
        COPY_DEPENDENCIES,
        `-DoutputDirectory=${partial}`,
      ]);
      await rename(partial, lib);
      const { files, bytes } = await directorySize(lib);
      const seconds = (Date.now() - started) / 1000;
      await writeFile(
        join(dir, COMPLETE),
        JSON.stringify({ files, bytes, seconds, at: new Date().toISOString() }),
      );
      log(`[maven] ${server}: ${files} jars, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s`);
      return lib;
    },
  );
}

if (import.meta.main) {
  for (const server of process.argv.slice(2)) console.log(await fetchJars(server));
}
