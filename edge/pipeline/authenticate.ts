/**
 * @module Pipeline step 2, authenticate: find the write key and the project
 * it names. Segment clients put the key in one of three places: HTTP Basic
 * (server SDKs: the key as user name, no password), `writeKey` in the body
 * (analytics.js, which cannot set headers on sendBeacon), or `?writeKey=`
 * (the pixel). An unknown or missing key is a 401.
 */
import { InputError } from '../../shared/errors.ts';
import type { Project, ProjectRegistry } from '../project-registry.ts';

export interface KeySources {
  authorization?: string | undefined;
  queryWriteKey?: string | undefined;
  body: unknown;
}

export function findWriteKey(sources: KeySources): string | undefined {
  const fromHeader = basicUser(sources.authorization);
  if (fromHeader) return fromHeader;
  const fromBody = bodyWriteKey(sources.body);
  if (fromBody) return fromBody;
  return sources.queryWriteKey || undefined;
}

export function authenticate(
  registry: ProjectRegistry,
  sources: KeySources,
): { project: Project; writeKey: string } {
  const writeKey = findWriteKey(sources);
  if (!writeKey) {
    throw new InputError(
      'No write key: send it as the HTTP Basic user name, `writeKey` in the body, or ?writeKey=.',
      {
        status: 401,
        code: 'missing_write_key',
      },
    );
  }
  const project = registry.byWriteKey(writeKey);
  if (!project) {
    throw new InputError('Unknown write key; check the key in your SDK settings.', {
      status: 401,
      code: 'invalid_write_key',
    });
  }
  return { project, writeKey };
}

function basicUser(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  return (colon < 0 ? decoded : decoded.slice(0, colon)) || undefined;
}

function bodyWriteKey(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  if (typeof body.writeKey === 'string' && body.writeKey) return body.writeKey;
  // analytics.js batches also carry the key inside each event.
  const first = Array.isArray(body.batch) ? body.batch[0] : undefined;
  if (isRecord(first) && typeof first.writeKey === 'string' && first.writeKey) return first.writeKey;
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
