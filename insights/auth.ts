/**
 * @module Hono middleware scoping a request to one project: the read key in
 * `Authorization: Bearer <key>` names the project; a `project` parameter, if
 * given, must be that project. 401 without a valid key, 403 for a project
 * the key does not open (also when the project does not exist, so ids cannot
 * be probed).
 */
import { createMiddleware } from 'hono/factory';
import { InputError } from '../shared/errors.ts';
import type { Project, ProjectRegistry } from './projects.ts';

export type AuthEnv = { Variables: { project: Project } };

const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,256})[ ]*$/i;

export function requireReadKey(projects: ProjectRegistry) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const key = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const project = key === undefined ? undefined : projects.byReadKey(key);
    if (project === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="insights"');
      throw new InputError(
        header === undefined
          ? 'send a read key as Authorization: Bearer <key>'
          : 'the read key is not valid; check it in the project settings',
        { status: 401, code: 'unauthorized' },
      );
    }
    const asked = c.req.query('project');
    if (asked !== undefined && asked !== project.id) {
      throw new InputError('this read key does not open that project', { status: 403, code: 'forbidden' });
    }
    c.set('project', project);
    await next();
  });
}
