/**
 * @module Per-project CORS. A preflight carries no write key (browsers strip
 * credentials from it), so it is answered for any origin some project allows
 * (or the `?writeKey=` project's origins when the URL names one); the real
 * request is checked against its own project once authenticated. Origins are
 * echoed, never `*`, with credentials allowed: a sendBeacon Blob sends
 * cookies, and a wildcard would make the browser drop the beacon.
 */
import type { Project, ProjectRegistry } from './project-registry.ts';
import { projectAllowsOrigin } from './project-registry.ts';

const ALLOWED_HEADERS = 'Content-Type, Authorization, Content-Encoding';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  };
}

/** The answer to an OPTIONS preflight, or undefined when the origin is not allowed. */
export function preflightHeaders(
  origin: string | undefined,
  registry: ProjectRegistry,
  queryWriteKey: string | undefined,
): Record<string, string> | undefined {
  if (!origin) return undefined;
  const project = queryWriteKey ? registry.byWriteKey(queryWriteKey) : undefined;
  const allowed = project ? projectAllowsOrigin(project, origin) : registry.anyProjectAllowsOrigin(origin);
  if (!allowed) return undefined;
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '86400',
  };
}

/**
 * Headers for a request of `project`: none without an Origin (server SDKs),
 * undefined when the project refuses that origin.
 */
export function requestCorsHeaders(
  origin: string | undefined,
  project: Project,
): Record<string, string> | undefined {
  if (!origin) return {};
  return projectAllowsOrigin(project, origin) ? corsHeaders(origin) : undefined;
}
