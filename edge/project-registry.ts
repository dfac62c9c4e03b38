/**
 * @module Projects and their keys: the edge's only notion of a tenant. A write
 * key names exactly one project; allowed origins and the rate limit are per
 * project. The registry is a port so that a database-backed one can replace
 * the static file later without touching the pipeline.
 */
import type { Project } from '../shared/config/projects.ts';

// The schemas are configuration, shared with insights through the pipeline file (shared/config/).
export {
  type Project,
  projectSchema,
  projectsSchema,
  type RateLimit,
  rateLimitSchema,
} from '../shared/config/projects.ts';

export interface ProjectRegistry {
  byWriteKey(writeKey: string): Project | undefined;
  /** Whether any project accepts this origin: answers CORS preflights, which carry no key. */
  anyProjectAllowsOrigin(origin: string): boolean;
}

/** The registry of a config file or environment variable, indexed once. */
export function createStaticRegistry(projects: readonly Project[]): ProjectRegistry {
  const byKey = new Map<string, Project>();
  const origins = new Set<string>();
  let anyOrigin = false;
  for (const p of projects) {
    for (const key of p.writeKeys) byKey.set(key, p);
    // Only an explicit `*` grants every origin: a project that lists none grants none.
    if (p.allowedOrigins.includes(ANY_ORIGIN)) anyOrigin = true;
    for (const o of p.allowedOrigins) origins.add(o);
  }
  return {
    byWriteKey: (writeKey) => byKey.get(writeKey),
    anyProjectAllowsOrigin: (origin) => anyOrigin || origins.has(origin),
  };
}

/** Whether a project accepts events from a browser origin. */
export function projectAllowsOrigin(project: Project, origin: string): boolean {
  const allowed = project.allowedOrigins;
  return allowed.includes(ANY_ORIGIN) || allowed.includes(origin);
}

/** The documented opt-in to every origin. */
export const ANY_ORIGIN = '*';
