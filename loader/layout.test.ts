import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.ts';
import { hourLabel, hourOfMicros, parseHour, WarehouseLayout } from './layout.ts';

const h9 = Date.UTC(2026, 10, 25, 9) / 3_600_000;

describe('hours', () => {
  it('buckets a µs instant by its UTC hour, edges included', () => {
    expect(hourOfMicros(Date.UTC(2026, 10, 25, 9, 0, 0, 0) * 1000)).toBe(h9);
    expect(hourOfMicros(Date.UTC(2026, 10, 25, 9, 59, 59, 999) * 1000 + 999)).toBe(h9);
    expect(hourOfMicros(Date.UTC(2026, 10, 25, 10) * 1000)).toBe(h9 + 1);
  });

  it('parses the forms an operator types, all as UTC', () => {
    for (const text of [
      '2026-11-25T09',
      '2026-11-25T09:00',
      '2026-11-25T09:59:59Z',
      '2026-11-25 09',
      '2026-11-25T10:30+01:00',
    ]) {
      expect(parseHour(text), text).toBe(h9);
    }
    expect(hourLabel(h9)).toBe('2026-11-25T09');
    expect(() => parseHour('last tuesday')).toThrow(InputError);
  });
});

describe('WarehouseLayout', () => {
  const layout = new WarehouseLayout('wh');

  it('puts an hour under dt=/hour= and a replay under v=<run> below it', () => {
    expect(layout.partitionPrefix('events', h9)).toBe('wh/events/dt=2026-11-25/hour=09/');
    expect(layout.partitionPrefix('events', h9, 'r1')).toBe('wh/events/dt=2026-11-25/hour=09/v=r1/');
    expect(layout.rollupKey('events_hourly', h9)).toBe(
      'wh/events_hourly/dt=2026-11-25/hour=09/events_hourly.parquet',
    );
  });

  it('names files by topic, partition and first offset, and parses them back', () => {
    const name = layout.dataFileName('eu.events', 3, 1200);
    expect(name).toBe('eu.events-3-1200.parquet');
    expect(layout.parseDataFileName(name)).toEqual({ topic: 'eu.events', partition: 3, firstOffset: 1200 });
    expect(layout.parseDataFileName('events_hourly.parquet')).toBeNull();
  });

  it('keeps indexes and bookkeeping under _loader/, mirroring the data key', () => {
    expect(layout.indexKeyOf('wh/events/dt=2026-11-25/hour=09/events-0-5.parquet')).toBe(
      'wh/_loader/dedup/events/dt=2026-11-25/hour=09/events-0-5.idx',
    );
    expect(new WarehouseLayout('').lockKey('events')).toBe('_loader/lock/events.json');
  });
});
