/**
 * @module Projects and their keys: the edge's only notion of a tenant. A write
 * key names exactly one project; allowed origins and the rate limit are per
 * project. The registry is a port so that a database-backed one can replace
 * the static file later without touching the pipeline.
 */
import { z } from 'zod';

export const rateLimitSchema = z.object({
  /** Sustained events per second per write key. */
  perSecond: z.number().positive(),
  /** Events a key may send at once after being idle. */
  burst: z.number().int().positive(),
});
export type RateLimit = z.infer<typeof rateLimitSchema>;

export const projectSchema = z.object({
  id: z.string().min(1).max(128),
  writeKeys: z.array(z.string().min(8)).min(1),
  readKeys: z.array(z.string().min(8)).default([]),
  /**
   * Browser origins allowed to send (`https://shop.example`), by explicit
   * grant only: empty (the default) allows no browser origin, `*` allows any
   * (an opt-in, for a tracker on sites you do not list). Server SDKs send no
   * Origin and are not affected.
   */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  rateLimit: rateLimitSchema.optional(),
});
export type Project = z.infer<typeof projectSchema>;

export const projectsSchema = z.array(projectSchema).superRefine((projects, ctx) => {
  const seenKeys = new Set<string>();
  const seenIds = new Set<string>();
  for (const [i, p] of projects.entries()) {
    if (seenIds.has(p.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate project id ${p.id}` });
    seenIds.add(p.id);
    for (const key of p.writeKeys) {
      // A key shared by two projects would route one tenant's events to another.
      if (seenKeys.has(key))
        ctx.addIssue({ code: 'custom', path: [i, 'writeKeys'], message: 'write key used twice' });
      seenKeys.add(key);
    }
  }
});

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
