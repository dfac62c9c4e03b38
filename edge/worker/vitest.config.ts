/**
 * The `worker` vitest project: the Worker's tests in real workerd through
 * @cloudflare/vitest-plugin, with the real wrangler.toml (queue producer and
 * consumer included) and test bindings on top: the region table points at
 * the Node relays that test/global-setup.ts starts, and the queue consumer
 * waits 50 ms instead of seconds to fill a batch.
 */
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineProject } from 'vitest/config';
import {
  EVENTS_QUEUE_NAME,
  TEST_IP_SALT,
  TEST_PROJECT,
  TEST_RELAY_SECRET,
  testRegionTable,
} from './test/relay-fixture.ts';

// The tests run offline: Miniflare's fallback request.cf, not a download.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
process.env.WRANGLER_SEND_METRICS ??= 'false';

// `.href`: this file runs in Node but is checked with Workers' globals, whose URL is not Node's.
const WRANGLER_CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url).href);

export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: WRANGLER_CONFIG },
      miniflare: {
        bindings: {
          PROJECTS: JSON.stringify([TEST_PROJECT]),
          REGIONS: JSON.stringify(testRegionTable(inject('relayCluster'))),
          IP_SALT: TEST_IP_SALT,
          RELAY_SECRET: TEST_RELAY_SECRET,
          LOG_LEVEL: 'error',
        },
        queueConsumers: { [EVENTS_QUEUE_NAME]: { maxBatchTimeout: 0.05 } },
      },
    })),
  ],
  test: {
    name: 'worker',
    include: ['**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One workerd for every file (about 3x faster): tests restore their spies
    // and use their own messageIds, so files cannot see each other's state.
    isolate: false,
  },
});
