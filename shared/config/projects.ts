/**
 * @module Projects and their keys as configuration: the edge reads the write
 * keys and allowed origins, insights the read keys. Here, in shared/, because
 * one list in the pipeline file feeds both (docs/architecture.md, "The
 * dependency rule": deployables meet in shared/, never in each other).
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

/** A project as a file lists it; `name` is for insights (the same list often feeds both). */
export const projectEntrySchema = z.strictObject({
  ...projectSchema.shape,
  name: z.string().max(200).optional(),
  rateLimit: z.strictObject(rateLimitSchema.shape).optional(),
});

/**
 * The pipeline file's `projects`: ids and read keys follow what insights
 * accepts, so a key the dashboard would refuse fails at `--check`, naming it.
 */
export const projectsSectionSchema = z
  .array(
    projectEntrySchema.extend({
      id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (64 at most)'),
      readKeys: z.array(z.string().regex(/^[\x21-\x7e]{16,256}$/, '16 to 256 printable ASCII characters')),
    }),
  )
  .default([]);

export type ProjectsSection = z.output<typeof projectsSectionSchema>;
