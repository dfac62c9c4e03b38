import { describe, expect, it } from 'vitest';
import { homeRegion, regionTableSchema, relayPlan } from './region-table.ts';

const table = regionTableSchema.parse({
  regions: {
    eu: ['https://eu-1.relay.test/', 'https://eu-2.relay.test'],
    us: ['https://us-1.relay.test'],
    ap: ['https://ap-1.relay.test'],
  },
  continents: { eu: 'eu', NA: 'us', AS: 'ap' },
  colos: { sin: 'ap', HKG: 'us' },
  default: 'eu',
  failover: { ap: ['us', 'eu'] },
});

describe('homeRegion', () => {
  it('takes the colo first, then the continent, then the default, whatever the case', () => {
    expect(homeRegion(table, { colo: 'HKG', continent: 'AS' })).toBe('us');
    expect(homeRegion(table, { colo: 'sin' })).toBe('ap');
    expect(homeRegion(table, { colo: 'FRA', continent: 'EU' })).toBe('eu');
    expect(homeRegion(table, { continent: 'na' })).toBe('us');
    expect(homeRegion(table, { continent: 'SA' })).toBe('eu');
    expect(homeRegion(table, {})).toBe('eu');
  });
});

describe('relayPlan', () => {
  it('lists the home region’s relays in order, then its failover regions’', () => {
    expect(relayPlan(table, 'ap')).toEqual([
      { region: 'ap', url: 'https://ap-1.relay.test' },
      { region: 'us', url: 'https://us-1.relay.test' },
      { region: 'eu', url: 'https://eu-1.relay.test' },
      { region: 'eu', url: 'https://eu-2.relay.test' },
    ]);
  });

  it('fails over to every other region in declaration order when the table names none', () => {
    expect(relayPlan(table, 'us').map((t) => t.region)).toEqual(['us', 'eu', 'eu', 'ap']);
  });

  it('tries a relay listed by two regions once', () => {
    const shared = regionTableSchema.parse({
      regions: {
        eu: ['https://shared.relay.test'],
        us: ['https://shared.relay.test/', 'https://us.relay.test'],
      },
      default: 'eu',
    });
    expect(relayPlan(shared, 'eu').map((t) => t.url)).toEqual([
      'https://shared.relay.test',
      'https://us.relay.test',
    ]);
  });
});

describe('regionTableSchema', () => {
  it('refuses a table naming a region it does not define', () => {
    const result = regionTableSchema.safeParse({
      regions: { eu: ['https://eu.relay.test'] },
      continents: { NA: 'us' },
      default: 'eu',
      failover: { eu: ['ap'] },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).sort()).toEqual([
      'unknown region ap',
      'unknown region us',
    ]);
  });

  it('refuses a region without relays and a relay that is not http(s)', () => {
    expect(regionTableSchema.safeParse({ regions: { eu: [] }, default: 'eu' }).success).toBe(false);
    expect(
      regionTableSchema.safeParse({ regions: { eu: ['ftp://relay.test'] }, default: 'eu' }).success,
    ).toBe(false);
  });
});
