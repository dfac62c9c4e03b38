import { describe, expect, it } from 'vitest';
import { eventKey } from './event.ts';
import { partitionOf } from './warehouse.ts';

describe('eventKey', () => {
  it('keeps one user in one key, preferring userId over anonymousId', () => {
    expect(eventKey({ projectId: 'p1', userId: 'u1', anonymousId: 'a1', messageId: 'm1' })).toBe('p1:u1');
    expect(eventKey({ projectId: 'p1', userId: null, anonymousId: 'a1', messageId: 'm1' })).toBe('p1:a1');
    expect(eventKey({ projectId: 'p1', messageId: 'm1' })).toBe('p1:m1');
  });
});

describe('partitionOf', () => {
  it('takes the UTC hour whatever the local zone', () => {
    expect(partitionOf(new Date('2026-11-25T23:59:59.999-01:00'))).toEqual({ dt: '2026-11-26', hour: '00' });
    expect(partitionOf(new Date('2026-01-02T03:04:05Z'))).toEqual({ dt: '2026-01-02', hour: '03' });
  });
});
