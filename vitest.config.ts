import { defineConfig } from 'vitest/config';

// Tiers: `unit` needs no server; `integration` runs against the real
// Kafka, S3 server and HiveServer2 that test/infra starts (and stops, if it
// started them) in its global setup; `regions` starts its own regional Kafka
// clusters and MirrorMaker 2, and uses the same stack's S3 server and HiveServer2;
// `soak` starts its own one-machine process. `npm test` (test/run-tests.sh) runs
// the projects that need no shared server beside the ones that do.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      // The Cloudflare Worker's tests, in real workerd (edge/worker/README.md).
      'edge/worker/vitest.config.ts',
      {
        test: {
          name: 'unit',
          include: ['{edge,loader,insights,shared,test}/**/*.test.ts'],
          exclude: [
            '**/*.integration.test.ts',
            '**/*.regions.test.ts',
            '**/node_modules/**',
            'edge/worker/**',
          ],
          // Some unit tests spawn a CLI (node start.ts --check, loader/cli.ts): on two busy cores
          // that alone can pass vitest's 5 s default. A deadline against hangs, not a speed test.
          testTimeout: 30_000,
          // The same for set-up: a DuckDB warehouse seeded in beforeAll took over 10 s on a loaded CI machine.
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{edge,loader,insights,shared,test}/**/*.integration.test.ts'],
          exclude: ['test/soak/**', '**/node_modules/**'],
          globalSetup: ['test/infra/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // The real servers share two cores: files run one at a time.
          fileParallelism: false,
        },
      },
      {
        // Three minutes of traffic through the one-machine process on free ports and its own
        // data directory (test/soak/README.md): no shared server, so it runs beside them.
        test: {
          name: 'soak',
          include: ['test/soak/**/*.integration.test.ts'],
          testTimeout: 420_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Two regions, central and MirrorMaker 2, private to the test (test/infra/regions.ts); the
        // shared stack (global setup, as the integration project's) for the S3 server and
        // HiveServer2 the test loads central into. 3.5-6 minutes on two busy cores (the load into
        // Hive about 45 s of it).
        test: {
          name: 'regions',
          include: ['test/regions/**/*.regions.test.ts'],
          globalSetup: ['test/infra/global-setup.ts'],
          testTimeout: 420_000,
          hookTimeout: 480_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
