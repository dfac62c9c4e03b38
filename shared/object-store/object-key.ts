/**
 * @module Validation of object keys, shared by every adapter so a key that one
 * store accepts is accepted by all: '/'-separated, relative, no empty, `.` or
 * `..` segments (a directory store must never escape its root), no NUL.
 */
import { StoreError } from '../errors.ts';

/** Suffix of the directory store's in-flight temp files; keys may not use it. */
export const TEMP_SUFFIX = '.b2h-tmp';

/** Throws a StoreError (code `invalid_key`) unless `key` names an object. */
export function assertObjectKey(key: string): void {
  const problem = keyProblem(key, false);
  if (problem) throw invalidKey(key, problem);
}

/** Like assertObjectKey, but '' (everything) and a trailing '/' are fine: list and delete take prefixes. */
export function assertKeyPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix, true);
  if (problem) throw invalidKey(prefix, problem);
}

function keyProblem(key: string, isPrefix: boolean): string | null {
  if (key.length === 0) return 'it is empty';
  if (key.length > 1024) return 'it is longer than 1024 characters';
  if (key.includes('\0')) return 'it contains NUL';
  if (key.startsWith('/')) return "it starts with '/'";
  if (key.includes('\\')) return "it contains '\\' (keys are '/'-separated)";
  const segments = key.split('/');
  // A prefix may end with '/', which leaves one empty last segment.
  if (isPrefix && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') return 'it has an empty segment';
    if (segment === '.' || segment === '..') return `it has a '${segment}' segment`;
    if (segment.endsWith(TEMP_SUFFIX)) return `a segment ends with ${TEMP_SUFFIX}, reserved for temp files`;
  }
  return null;
}

function invalidKey(key: string, problem: string): StoreError {
  return new StoreError(`Invalid object key ${JSON.stringify(key)}: ${problem}`, {
    code: 'invalid_key',
    status: 400,
  });
}
