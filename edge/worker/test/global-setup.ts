/**
 * @module globalSetup of the `worker` vitest project (runs in Node): builds
 * the t.js text module the Worker imports, starts the real Node relays the
 * Worker's queue consumer forwards to, and provides their URLs to the
 * Miniflare bindings (vitest.config.ts) and to the tests.
 */
import type { TestProject } from 'vitest/node';
import { startRelayCluster } from './relay-cluster.ts';
import { writeTrackerModule } from './tracker-module.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Before anything loads the Worker: its main module imports the file.
  project.provide('trackerScript', await writeTrackerModule());
  const running = await startRelayCluster();
  project.provide('relayCluster', running.cluster);
  return () => running.stop();
}
