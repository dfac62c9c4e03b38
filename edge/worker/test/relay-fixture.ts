/**
 * @module Constants both sides of the Worker tests share: the Node relays
 * started by global-setup.ts and the tests running in workerd. Plain data,
 * so it loads in either runtime.
 */

export const TEST_RELAY_SECRET = 'worker-tests-relay-secret-0123456789';
export const TEST_IP_SALT = 'worker-tests-ip-salt-0123456789';

export const TEST_PROJECT = {
  id: 'proj_worker_tests',
  writeKeys: ['wk_worker_tests_0123456789'],
  readKeys: [],
  allowedOrigins: [],
};
export const TEST_WRITE_KEY = TEST_PROJECT.writeKeys[0]!;

/** The queue of wrangler.toml (the tests run the real config with test bindings on top). */
export const EVENTS_QUEUE_NAME = 'beacon-events';

/** What global-setup.ts provides to the tests and to the Worker's bindings. */
export interface RelayCluster {
  /** Base URL of each running Node relay, by region. */
  relays: { eu: string; us: string };
  /** A loopback URL where nothing listens (port 9): a relay that is down. */
  deadRelay: string;
  /** GET <observer>/events/<region>: every event the region's relay put on its bus. */
  observer: string;
}

/**
 * The test region table: `eu` and `us` run; `ap` (Asia) has only the dead
 * relay, so its events must fail over to `us`, then `eu`.
 */
export function testRegionTable(cluster: RelayCluster) {
  return {
    regions: { eu: [cluster.relays.eu], us: [cluster.relays.us], ap: [cluster.deadRelay] },
    continents: { EU: 'eu', NA: 'us', AS: 'ap' },
    colos: { SIN: 'ap' },
    default: 'eu',
    failover: { eu: ['us'], us: ['eu'], ap: ['us', 'eu'] },
  };
}
