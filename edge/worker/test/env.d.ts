/** Types of the test environment: the Worker's bindings and what global-setup.ts provides. */
import type { Env as WorkerEnv } from '../worker-config.ts';
import type { RelayCluster } from './relay-fixture.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    relayCluster: RelayCluster;
    /** The t.js the Worker serves, as global-setup.ts built it. */
    trackerScript: string;
  }
}
