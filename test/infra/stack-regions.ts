/**
 * @module The regional topology as part of the shared stack (`npm run stack -- up --regions
 * eu,us`): a cluster per region, `central`, and MirrorMaker 2, on ports derived from
 * KAFKA_PORT (regions.ts) and under $BEACON_CACHE/stack/regions/. The region list is kept in
 * regions.json so `down` and `status` find what `up` started; the endpoints go to
 * regions.env (REGIONS, and KAFKA_BROKERS_<NAME> per cluster) for a shell or a test to read.
 * The default `up` starts none of it: one cluster is what the usual test run needs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from './cache-dir.ts';
import { CENTRAL, regionPorts, regionsStatus, startRegions, stopRegions } from './regions.ts';
import { stackDir, stackPorts } from './stack-layout.ts';

function layout(cache: string) {
  const root = join(stackDir(cache), 'regions');
  return {
    root,
    dataDir: root,
    logDir: join(stackDir(cache), 'logs', 'regions'),
    listFile: join(root, 'regions.json'),
    envFile: join(stackDir(cache), 'regions.env'),
  };
}

async function recordedRegions(cache: string): Promise<string[] | undefined> {
  const file = layout(cache).listFile;
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as string[];
}

/** Starts the regions, central and MirrorMaker 2; returns the env file written. */
export async function regionsUp(regions: string[], cache = cacheDir()): Promise<string> {
  const l = layout(cache);
  const running = await recordedRegions(cache);
  if (running && running.join(',') !== regions.join(',')) {
    throw new Error(
      `regions ${running.join(',')} are recorded as up; \`npm run stack -- down\` first to change the list`,
    );
  }
  const ports = regionPorts(regions, stackPorts().kafka);
  const status = await regionsStatus({ regions, ports, ...l });
  if (status.every((s) => s.answers)) return l.envFile;
  // Half up (a crash, a SIGKILLed broker): stop what runs and start the whole topology again.
  await stopRegions({ regions, ...l });
  await mkdir(l.root, { recursive: true });
  await writeFile(l.listFile, JSON.stringify(regions));
  const handle = await startRegions({ regions, ports, ...l, cache });
  const lines = [
    '# Written by test/infra/stack-regions.ts: the regional topology (docs/regions.md).',
    `REGIONS=${regions.join(',')}`,
    ...[...regions, CENTRAL].map(
      (name) => `KAFKA_BROKERS_${name.toUpperCase()}=${handle.brokers[name]?.join(',')}`,
    ),
  ];
  await writeFile(l.envFile, `${lines.join('\n')}\n`);
  return l.envFile;
}

/** Stops what `regionsUp` started, if anything. */
export async function regionsDown(
  cache = cacheDir(),
  log: (line: string) => void = console.log,
): Promise<void> {
  const l = layout(cache);
  const regions = await recordedRegions(cache);
  if (!regions) return;
  await rm(l.envFile, { force: true });
  for (const [name, result] of Object.entries(await stopRegions({ regions, ...l }))) {
    log(`[stack] regions/${name}: ${result}`);
  }
  await rm(l.listFile, { force: true });
}

/** One line per cluster and MirrorMaker, or none when no regions were started. */
export async function regionsStatusLines(cache = cacheDir()): Promise<string[]> {
  const regions = await recordedRegions(cache);
  if (!regions) return [];
  const ports = regionPorts(regions, stackPorts().kafka);
  return (await regionsStatus({ regions, ports, ...layout(cache) })).map((s) => {
    const state =
      s.pid === undefined ? 'down' : s.answers ? `up (pid ${s.pid})` : `NOT ANSWERING (pid ${s.pid})`;
    return `${`regions/${s.name}`.padEnd(20)} ${state.padEnd(28)} ${s.endpoint}`;
  });
}
