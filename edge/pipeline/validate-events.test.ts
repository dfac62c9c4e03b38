import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.ts';
import { parseIsoInstant } from './event-schema.ts';
import { validateEvents } from './validate-events.ts';

const opts = { maxEventBytes: 32 * 1024, bodyBytes: 100 };
const valid = { type: 'track', event: 'E', userId: 'u' };

describe('validateEvents', () => {
  it('requires an identity and the fields each call type needs', () => {
    const batch = validateEvents(
      {
        batch: [
          { type: 'track', userId: 'u' },
          { type: 'identify' },
          { type: 'group', anonymousId: 'a' },
          { type: 'alias', userId: 'u' },
          { type: 'unknown', userId: 'u' },
          { type: 'page', userId: 'u' },
        ],
      },
      'batch',
      opts,
    );
    expect(batch.events).toHaveLength(1);
    expect(batch.rejected.map((r) => [r.index, r.message])).toEqual([
      [0, 'event: a track event needs an event name'],
      [1, 'userId: userId or anonymousId is required'],
      [2, 'groupId: a group call needs groupId'],
      [3, 'previousId: an alias call needs previousId'],
      [4, expect.stringContaining('type:')],
    ]);
  });

  it('accepts numeric ids as strings and a null userId with an anonymousId', () => {
    const { events } = validateEvents(
      {
        batch: [
          { ...valid, userId: 42 },
          { ...valid, userId: null, anonymousId: 'a' },
        ],
      },
      'batch',
      opts,
    );
    expect(events.map((e) => e.userId)).toEqual(['42', null]);
  });

  it('keeps the spec’s fields and drops the write key, SDK bookkeeping and the edge’s own names', () => {
    const { events } = validateEvents(
      {
        ...valid,
        writeKey: 'k',
        _metadata: { x: 1 },
        receivedAt: '2020-01-01T00:00:00Z',
        projectId: 'forged',
        eventTime: '2020-01-01T00:00:00Z',
        enrichment: { country: 'ZZ' },
        integrations: { All: true },
        channel: 'server',
        originalTimestamp: '2026-03-01T10:00:00.000Z',
      },
      'track',
      opts,
    );
    expect(Object.keys(events[0]!).sort()).toEqual([
      'channel',
      'event',
      'integrations',
      'originalTimestamp',
      'type',
      'userId',
    ]);
  });

  it('refuses non-objects and malformed timestamps per event', () => {
    const { rejected } = validateEvents(
      {
        batch: [
          null,
          3,
          [],
          { ...valid, timestamp: 'yesterday' },
          { ...valid, timestamp: '2026-03-01T10:00:00' },
        ],
      },
      'batch',
      opts,
    );
    expect(rejected.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(rejected[3]?.message).toContain('ISO 8601');
  });

  it('measures events only when the body could hold an oversized one', () => {
    const big = { ...valid, properties: { pad: 'é'.repeat(20 * 1024) } };
    // 20 K "é" is 40 KB of UTF-8: over 32 KB although under 32 K characters.
    const bodyBytes = 50 * 1024;
    expect(validateEvents({ batch: [big] }, 'batch', { ...opts, bodyBytes }).rejected[0]?.reason).toBe(
      'event_too_large',
    );
    expect(() => validateEvents(big, 'track', { ...opts, bodyBytes })).toThrow(InputError);
  });

  it('reads the batch-level sentAt and refuses a body that is not a batch', () => {
    expect(validateEvents({ batch: [valid], sentAt: '2026-03-01T12:00:00Z' }, 'batch', opts).sentAt).toBe(
      '2026-03-01T12:00:00Z',
    );
    expect(() => validateEvents({ events: [] }, 'batch', opts)).toThrow(/batch/);
    expect(() => validateEvents('str', 'track', opts)).toThrow(/JSON object/);
  });
});

describe('parseIsoInstant', () => {
  it('takes ISO 8601 with a zone and refuses the rest', () => {
    expect(parseIsoInstant('2026-03-01T12:00:00Z')).toBe(Date.parse('2026-03-01T12:00:00Z'));
    expect(parseIsoInstant('2026-03-01T12:00:00.123456789Z')).toBe(Date.parse('2026-03-01T12:00:00.123Z'));
    expect(parseIsoInstant('2026-03-01T13:00:00+0100')).toBe(Date.parse('2026-03-01T12:00:00Z'));
    expect(parseIsoInstant('2026-03-01T13:00+01')).toBe(Date.parse('2026-03-01T12:00:00Z'));
    for (const bad of ['2026-03-01', '2026-03-01T12:00:00', 'March 1 2026', '2026-13-45T99:00:00Z', '']) {
      expect(parseIsoInstant(bad), bad).toBeUndefined();
    }
  });
});
