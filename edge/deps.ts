/**
 * @module What `createApp` needs, built once by a runtime entry (node.ts, or
 * the Worker) and passed down: nothing in the app creates its own adapters.
 */
import type { Context } from 'hono';
import type { Logger } from '../shared/logger.ts';
import type { Clock } from './clock.ts';
import type { EdgeLimits } from './limits.ts';
import type { EdgeMetrics } from './metrics.ts';
import type { ProjectRegistry } from './project-registry.ts';
import type { EventSink } from './sink/event-sink.ts';

export interface EdgeDeps {
  projects: ProjectRegistry;
  sink: EventSink;
  clock: Clock;
  limits: EdgeLimits;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Secret salt of the IP hash; rotating it makes old and new hashes unrelated. */
  ipSalt: string;
  /** Enables POST /v1/relay when set: the key Worker queue consumers sign with. */
  relaySecret?: string | undefined;
  /** Header carrying the client's country (Cloudflare: cf-ipcountry). */
  countryHeader: string;
  /** The runtime's view of the client address (socket, or a trusted proxy header). */
  clientIp: (c: Context) => string | undefined;
  /** Defaults to crypto.randomUUID. */
  newMessageId?: () => string;
  /**
   * The browser tracker's source, served as GET /t.js; without it /t.js is a 404.
   * Called per request: the runtime caches (Node builds it once with esbuild,
   * the Worker imports the bundle as a text module).
   */
  trackerScript?: () => Promise<string>;
}

export type EdgeEnv = { Variables: { route: string } };
