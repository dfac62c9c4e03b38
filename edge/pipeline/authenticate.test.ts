import { describe, expect, it } from 'vitest';
import { createStaticRegistry } from '../project-registry.ts';
import { authenticate, findWriteKey } from './authenticate.ts';

const registry = createStaticRegistry([
  { id: 'p', writeKeys: ['wk_key_00000000'], readKeys: [], allowedOrigins: [] },
]);

describe('findWriteKey', () => {
  it('prefers HTTP Basic, then the body, then the batch first event, then the query', () => {
    const basic = `Basic ${btoa('from-header:')}`;
    expect(findWriteKey({ authorization: basic, body: { writeKey: 'b' }, queryWriteKey: 'q' })).toBe(
      'from-header',
    );
    expect(findWriteKey({ authorization: `basic ${btoa('nocolon')}`, body: {} })).toBe('nocolon');
    expect(findWriteKey({ body: { writeKey: 'from-body' }, queryWriteKey: 'q' })).toBe('from-body');
    expect(findWriteKey({ body: { batch: [{ writeKey: 'from-event' }] } })).toBe('from-event');
    expect(findWriteKey({ body: {}, queryWriteKey: 'from-query' })).toBe('from-query');
    expect(findWriteKey({ authorization: 'Bearer x', body: null })).toBeUndefined();
    expect(findWriteKey({ authorization: 'Basic !!!not-base64', body: null })).toBeUndefined();
  });
});

describe('authenticate', () => {
  it('finds the project, or 401s', () => {
    expect(authenticate(registry, { body: { writeKey: 'wk_key_00000000' } }).project.id).toBe('p');
    expect(() => authenticate(registry, { body: { writeKey: 'nope' } })).toThrow(
      expect.objectContaining({ status: 401, code: 'invalid_write_key' }),
    );
    expect(() => authenticate(registry, { body: {} })).toThrow(
      expect.objectContaining({ status: 401, code: 'missing_write_key' }),
    );
  });
});
