/**
 * @module The projects this service answers for and their read keys (from
 * config). A read key opens exactly one project. Keys are looked up by their
 * SHA-256, so the map never holds the secrets themselves and a lookup costs
 * the same whatever the key's prefix.
 */
import { createHash } from 'node:crypto';

export interface ProjectConfig {
  id: string;
  name?: string | undefined;
  readKeys: string[];
}

export interface Project {
  id: string;
  name: string;
}

export interface ProjectRegistry {
  byReadKey(key: string): Project | undefined;
  readonly size: number;
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('base64');
}

export function createProjectRegistry(projects: readonly ProjectConfig[]): ProjectRegistry {
  const byDigest = new Map<string, Project>();
  const ids = new Set<string>();
  for (const p of projects) {
    if (ids.has(p.id)) throw new Error(`project ${p.id} is configured twice`);
    ids.add(p.id);
    for (const key of p.readKeys) {
      const d = digest(key);
      const other = byDigest.get(d);
      if (other) throw new Error(`a read key of project ${p.id} is also a key of project ${other.id}`);
      byDigest.set(d, { id: p.id, name: p.name ?? p.id });
    }
  }
  return {
    byReadKey: (key) => byDigest.get(digest(key)),
    size: ids.size,
  };
}
