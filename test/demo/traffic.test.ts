import { isbot } from 'isbot';
/**
 * The demo traffic tells the story the README promises: reproducible from its
 * seed, inside the period, valid for the edge, with a sign-up funnel that
 * drops off step by step and identify calls after sign-up.
 */
import { describe, expect, it } from 'vitest';
import { incomingEventSchema } from '../../edge/pipeline/event-schema.ts';
import { DEMO_FUNNEL, demoTraffic } from './traffic.ts';

const END = Date.parse('2026-11-25T10:30:00Z');
const options = { seed: 42, endMs: END, days: 7, sessionsPerDay: 60 };

describe('demoTraffic', () => {
  const sessions = demoTraffic(options);
  const events = sessions.flatMap((s) => s.events);

  it('is the same for the same seed, and different for another', () => {
    expect(demoTraffic(options)).toEqual(sessions);
    expect(demoTraffic({ ...options, seed: 43 })).not.toEqual(sessions);
  });

  it('stays inside the period, from the first day at midnight to the end', () => {
    const firstDay = Date.parse('2026-11-18T00:00:00Z');
    for (const e of events) {
      expect(Date.parse(e.timestamp)).toBeGreaterThanOrEqual(firstDay);
      expect(Date.parse(e.timestamp)).toBeLessThan(END);
    }
    const days = new Set(events.map((e) => e.timestamp.slice(0, 10)));
    expect(days.size).toBe(8);
  });

  it('sends only what the edge accepts, each messageId once', () => {
    for (const e of events) expect(incomingEventSchema.safeParse(e).success).toBe(true);
    expect(new Set(events.map((e) => e.messageId)).size).toBe(events.length);
  });

  it('has a funnel that loses visitors at each step, in order within a session', () => {
    const reached = DEMO_FUNNEL.map((step) => events.filter((e) => e.event === step).length);
    expect(reached[0]).toBeGreaterThan(reached[1]!);
    expect(reached[1]).toBeGreaterThan(reached[2]!);
    expect(reached[2]).toBeGreaterThan(0);
    for (const s of sessions) {
      const names = s.events.map((e) => e.event);
      const completed = names.indexOf('Signup Completed');
      if (completed >= 0) expect(names.lastIndexOf('Signup Started', completed)).toBeGreaterThan(-1);
    }
  });

  it('identifies those who signed up, and their later visits carry the user id', () => {
    const identifies = events.filter((e) => e.type === 'identify');
    expect(identifies.length).toBe(events.filter((e) => e.event === 'Signup Completed').length);
    const users = new Set(identifies.map((e) => e.userId));
    const later = events.filter((e) => e.type !== 'identify' && e.userId !== undefined);
    expect(later.every((e) => users.has(e.userId))).toBe(true);
  });

  it('mixes countries, devices, referrers and campaigns', () => {
    expect(new Set(sessions.map((s) => s.country)).size).toBeGreaterThanOrEqual(8);
    expect(new Set(sessions.map((s) => s.userAgent)).size).toBeGreaterThanOrEqual(6);
    // A few crawlers, as on any public site: the edge flags them, dashboards leave them out.
    const bots = sessions.filter((s) => isbot(s.userAgent)).length;
    expect(bots).toBeGreaterThan(0);
    expect(bots).toBeLessThan(sessions.length * 0.1);
    const campaigns = new Set(
      events.map((e) => (e.context.campaign as { source?: string } | undefined)?.source),
    );
    expect(campaigns).toContain('newsletter');
    expect(campaigns).toContain('twitter');
  });
});
