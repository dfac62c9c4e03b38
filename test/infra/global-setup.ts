/**
 * @module vitest globalSetup of the `integration` and `regions` projects: makes sure the shared stack is up
 * before any integration test runs, and stops afterwards only what a test run started.
 *
 * Several test runs can share the machine (helpers, CI, a developer), so each run holds a
 * lease (a file named by its pid under stack/leases/). A run that started servers does not
 * stop them while another run's lease is alive; the last run to leave stops every server a
 * test run started. A stack brought up with `npm run stack -- up` is never stopped here.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from './cache-dir.ts';
import { isProcessAlive } from './java-process.ts';
import { stackOwner, startStackServers, stopStackServers, withStackLock } from './stack.ts';
import { STACK_SERVERS, type StackServer, stackDir } from './stack-layout.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function liveLeases(leases: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir(leases).catch(() => [])) {
    const pid = Number.parseInt(name, 10);
    if (Number.isFinite(pid) && isProcessAlive(pid)) pids.push(pid);
    else await rm(join(leases, name), { force: true });
  }
  return pids;
}

export default async function setup(): Promise<() => Promise<void>> {
  const cache = cacheDir();
  const leases = join(stackDir(cache), 'leases');
  const lease = join(leases, String(process.pid));
  const started = Date.now();
  const startedServers = await withStackLock({ cache, log }, async () => {
    await mkdir(leases, { recursive: true });
    await writeFile(lease, '');
    try {
      return await startStackServers('tests', { cache, log });
    } catch (error) {
      await rm(lease, { force: true });
      throw error;
    }
  });
  if (startedServers.length > 0) {
    log(
      `[stack] started ${startedServers.join(', ')} for this test run in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }

  return async () => {
    await withStackLock({ cache, log }, async () => {
      await rm(lease, { force: true });
      const others = await liveLeases(leases);
      if (others.length > 0) {
        log(`[stack] left up: test run(s) ${others.join(', ')} still use it`);
        return;
      }
      const ours: StackServer[] = [];
      for (const server of STACK_SERVERS) {
        if ((await stackOwner(server, cache)) === 'tests') ours.push(server);
      }
      if (ours.length > 0) await stopStackServers(ours, { cache, log });
    });
  };
}
