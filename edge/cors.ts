/**
 * @module Per-project CORS, by explicit grant only: a project allows the
 * origins it lists (`*`: any), and none when it lists none. A preflight
 * carries no write key (browsers strip credentials from it), so it is
 * answered for an origin some project lists (or the `?writeKey=` project's
 * origins when the URL names one), never for an origin no project lists; the real
 * request is checked against its own project once authenticated. Origins are
 * echoed, never `*`, with credentials allowed: a sendBeacon Blob sends
 * cookies, and a wildcard would make the browser drop the beacon.
 *
 * Answers given before the project is known (too large, malformed JSON, an
 * unknown key) follow the preflight's rule, so a browser can read a 4xx the
 * tracker drops the batch on instead of seeing a network error it retries;
 * and every answer to an allowed origin exposes Retry-After, which the
 * tracker honours on a 429 or 503 (edge/tracker/README.md).
 */
import type { Project, ProjectRegistry } from './project-registry.ts';
import { projectAllowsOrigin } from './project-registry.ts';

const ALLOWED_HEADERS = 'Content-Type, Authorization, Content-Encoding';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Response headers a page may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'Retry-After';

/** Every header a grant sets: what to remove when a provisional grant does not hold. */
export const GRANT_HEADER_NAMES = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
] as const;

function corsHeaders(origin: string): Record<string, string> {
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
  return projectAllowsOrigin(project, origin) ? responseCorsHeaders(origin) : undefined;
}

/**
 * Headers for a request whose project is not known yet: granted when some
 * project allows the origin (the preflight's rule), none otherwise. Once the
 * project is known, `requestCorsHeaders` decides.
 */
export function provisionalCorsHeaders(
  origin: string | undefined,
  registry: ProjectRegistry,
): Record<string, string> {
  return origin && registry.anyProjectAllowsOrigin(origin) ? responseCorsHeaders(origin) : {};
}

function responseCorsHeaders(origin: string): Record<string, string> {
  return { ...corsHeaders(origin), 'access-control-expose-headers': EXPOSED_HEADERS };
}
