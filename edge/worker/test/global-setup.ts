/**
 * @module globalSetup of the `worker` vitest project (runs in Node): starts
 * the real Node relays the Worker's queue consumer forwards to, and provides
 * their URLs to the Miniflare bindings (vitest.config.ts) and to the tests.
 */
import type { TestProject } from 'vitest/node';
import { startRelayCluster } from './relay-cluster.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const running = await startRelayCluster();
  project.provide('relayCluster', running.cluster);
  return () => running.stop();
}
