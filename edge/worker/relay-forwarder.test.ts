import { describe, expect, it } from 'vitest';
import { outcomeOfStatus, retryDelaySeconds } from './relay-forwarder.ts';
import { relaySettingsSchema } from './worker-config.ts';

describe('outcomeOfStatus', () => {
  it('fails over on down or refusing relays, and stops on a refused body', () => {
    expect([200, 202].map(outcomeOfStatus)).toEqual(['delivered', 'delivered']);
    expect([500, 502, 503, 429, 408].map(outcomeOfStatus)).toEqual(Array(5).fill('unavailable'));
    expect([401, 403].map(outcomeOfStatus)).toEqual(['refused', 'refused']);
    expect([400, 404, 413, 422].map(outcomeOfStatus)).toEqual(Array(4).fill('rejected'));
  });
});

describe('retryDelaySeconds', () => {
  const settings = relaySettingsSchema.parse({});
  it('doubles from the base per attempt up to the cap, jittered by ±20 %', () => {
    const low = () => 0;
    const high = () => 0.999_999;
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((a) => retryDelaySeconds(a, settings, mid))).toEqual([5, 10, 20, 40, 80]);
    expect(retryDelaySeconds(1, settings, low)).toBe(4);
    expect(retryDelaySeconds(1, settings, high)).toBe(6);
    expect(retryDelaySeconds(30, settings, mid)).toBe(900);
    expect(retryDelaySeconds(10_000, settings, high)).toBe(1080);
  });
});
