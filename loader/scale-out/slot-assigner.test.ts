import { describe, expect, it } from 'vitest';
import { assignSlots } from './slot-assigner.ts';

describe('assignSlots', () => {
  it('gives partition p of every topic to one member, in contiguous ranges over the sorted members', () => {
    const plan = assignSlots(
      ['m-c', 'm-a', 'm-b'],
      new Map([
        ['us.events', [0, 1, 2, 3, 4, 5]],
        ['eu.events', [5, 4, 3, 2, 1, 0]],
      ]),
    );
    expect(Object.fromEntries(plan)).toEqual({
      'm-a': { 'eu.events': [0, 1], 'us.events': [0, 1] },
      'm-b': { 'eu.events': [2, 3], 'us.events': [2, 3] },
      'm-c': { 'eu.events': [4, 5], 'us.events': [4, 5] },
    });
  });

  it('hands the first members one more when slots do not divide, and leaves members beyond the slots idle', () => {
    const seven = assignSlots(['b', 'a'], new Map([['events', [0, 1, 2, 3, 4, 5, 6]]]));
    expect(Object.fromEntries(seven)).toEqual({ a: { events: [0, 1, 2, 3] }, b: { events: [4, 5, 6] } });
    const idle = assignSlots(['a', 'b', 'c'], new Map([['events', [0, 1]]]));
    expect(Object.fromEntries(idle)).toEqual({ a: { events: [0] }, b: { events: [1] }, c: {} });
  });

  it('keeps a slot whole when topics have different partition counts', () => {
    const plan = assignSlots(
      ['a', 'b'],
      new Map([
        ['eu.events', [0, 1, 2, 3]],
        ['us.events', [0, 1]],
      ]),
    );
    expect(Object.fromEntries(plan)).toEqual({
      a: { 'eu.events': [0, 1], 'us.events': [0, 1] },
      b: { 'eu.events': [2, 3] },
    });
  });
});
