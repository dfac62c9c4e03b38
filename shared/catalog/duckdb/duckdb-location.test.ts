import { describe, expect, it } from 'vitest';
import type { StoreLocation } from '../../object-store/object-store.ts';
import { duckdbLocation, storedLocation } from './duckdb-location.ts';

describe('DuckDB location names', () => {
  it('names S3 locations s3:// and directories by their path, and reads both back', () => {
    const locations: StoreLocation[] = [
      { kind: 's3', bucket: 'b', key: 'wh/events/dt=2026-11-25/hour=09' },
      { kind: 's3', bucket: 'b', key: '' },
      { kind: 'dir', path: '/data/warehouse/events' },
    ];
    expect(locations.map(duckdbLocation)).toEqual([
      's3://b/wh/events/dt=2026-11-25/hour=09',
      's3://b/',
      '/data/warehouse/events',
    ]);
    for (const location of locations) expect(storedLocation(duckdbLocation(location))).toEqual(location);
  });

  it('reads the s3a:// names of metadata written before locations were neutral', () => {
    expect(storedLocation('s3a://b/wh/events')).toEqual({ kind: 's3', bucket: 'b', key: 'wh/events' });
  });

  it('reads no other name', () => {
    for (const name of ['relative/path', 'gs://b/k', 'http://x/y', 's3://'])
      expect(storedLocation(name)).toBeNull();
  });
});
