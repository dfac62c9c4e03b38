import { describe, expect, it } from 'vitest';
import { createBotJudge } from './bot-agent.ts';
import { correctTimestamp, countryFrom, enrichEvents } from './enrich-events.ts';
import { incomingEventSchema } from './event-schema.ts';
import { createIpHasher } from './ip-hash.ts';
import { createUserAgentParser } from './user-agent.ts';

const RECEIVED = Date.parse('2026-03-01T12:00:00.000Z');
const deps = {
  parseUserAgent: createUserAgentParser(),
  isBot: createBotJudge(),
  hashIp: createIpHasher('a-secret-salt-for-tests'),
  newMessageId: () => 'fresh-id',
};

describe('correctTimestamp (Segment skew correction)', () => {
  it('anchors the client gap between its time and sentAt on receivedAt', () => {
    // The client's clock is 1 h fast; the event happened 3 s before it was sent.
    expect(correctTimestamp('2026-03-01T13:00:00.000Z', '2026-03-01T13:00:03.000Z', RECEIVED)).toBe(
      '2026-03-01T11:59:57.000Z',
    );
  });

  it('keeps the client time without sentAt, and uses receivedAt without a client time', () => {
    expect(correctTimestamp('2026-03-01T10:00:00.000Z', undefined, RECEIVED)).toBe(
      '2026-03-01T10:00:00.000Z',
    );
    expect(correctTimestamp(undefined, '2026-03-01T13:00:03.000Z', RECEIVED)).toBe(
      '2026-03-01T12:00:00.000Z',
    );
  });

  it('normalises offsets to UTC', () => {
    expect(correctTimestamp('2026-03-01T13:00:00+01:00', undefined, RECEIVED)).toBe(
      '2026-03-01T12:00:00.000Z',
    );
    expect(correctTimestamp('2026-03-01T13:00:00.123456+0100', undefined, RECEIVED)).toBe(
      '2026-03-01T12:00:00.123Z',
    );
  });

  it('survives absurd clocks without throwing', () => {
    expect(() => correctTimestamp('0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', RECEIVED)).not.toThrow();
  });
});

describe('enrichEvents', () => {
  const facts = {
    projectId: 'proj',
    receivedAtMs: RECEIVED,
    ipHash: 'connhash',
    country: 'FR',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  };

  it('adds receivedAt, projectId, a messageId when missing, UA and country', async () => {
    const e = incomingEventSchema.parse({ type: 'page', anonymousId: 'a1', name: 'Home' });
    const [out] = await enrichEvents([e], facts, deps);
    expect(out).toEqual({
      type: 'page',
      name: 'Home',
      anonymousId: 'a1',
      messageId: 'fresh-id',
      projectId: 'proj',
      receivedAt: '2026-03-01T12:00:00.000Z',
      eventTime: '2026-03-01T12:00:00.000Z',
      enrichment: {
        ipHash: 'connhash',
        country: 'FR',
        userAgent: { browser: 'Mobile Safari', browserVersion: '17.0', os: 'iOS', device: 'mobile' },
        bot: false,
      },
    });
  });

  it('keeps every spec field under its own name and adds eventTime beside them', async () => {
    const sent = {
      type: 'page',
      anonymousId: 'a1',
      userId: 'u1',
      messageId: 'm1',
      name: 'Pricing',
      category: 'Docs',
      channel: 'web',
      integrations: { All: true, Mixpanel: false },
      // RudderStack: originalTimestamp and sentAt, no timestamp; the client's clock is 1 h fast.
      originalTimestamp: '2026-03-01T13:00:00.000Z',
      sentAt: '2026-03-01T13:00:02.000Z',
      properties: { path: '/pricing' },
      context: { library: { name: 'rudder-sdk-node', version: '3' }, locale: 'fr-FR', app: { build: '7' } },
    };
    const [out] = await enrichEvents(
      [incomingEventSchema.parse({ ...sent, writeKey: 'wk', _metadata: {} })],
      facts,
      deps,
    );
    const { projectId, receivedAt, eventTime, enrichment, ...client } = out!;
    expect(client).toEqual(sent);
    expect(eventTime).toBe('2026-03-01T11:59:58.000Z');
    expect({ projectId, receivedAt }).toEqual({ projectId: 'proj', receivedAt: '2026-03-01T12:00:00.000Z' });
    expect(enrichment?.country).toBe('FR');
    // A Segment client's timestamp wins over its originalTimestamp, and stays as sent.
    const [segment] = await enrichEvents(
      [incomingEventSchema.parse({ ...sent, timestamp: '2026-03-01T12:59:00+01:00' })],
      facts,
      deps,
    );
    expect(segment).toMatchObject({
      timestamp: '2026-03-01T12:59:00+01:00',
      originalTimestamp: sent.originalTimestamp,
      eventTime: '2026-03-01T10:58:58.000Z',
    });
  });

  it('hashes context.ip instead of the connection and removes the raw address', async () => {
    const e = incomingEventSchema.parse({
      type: 'track',
      event: 'E',
      userId: 'u',
      messageId: 'keep-me',
      context: { ip: '198.51.100.7', userAgent: 'curl/8.0', locale: 'fr-FR' },
    });
    const [out] = await enrichEvents([e], facts, deps);
    expect(out?.messageId).toBe('keep-me');
    expect(out?.context).toEqual({ userAgent: 'curl/8.0', locale: 'fr-FR' });
    expect(out?.enrichment?.ipHash).toBe(await deps.hashIp('198.51.100.7'));
    expect(out?.enrichment?.ipHash).not.toBe('connhash');
    expect(JSON.stringify(out)).not.toContain('198.51.100.7');
    // The event's own user agent (curl) wins over the request's (an iPhone).
    expect(out?.enrichment?.userAgent?.os).toBeUndefined();
    expect(out?.enrichment?.bot).toBe(true);
  });

  it('flags bots by their user agent: crawlers, HTTP clients and headless browsers, not people', async () => {
    const agents: [string, boolean][] = [
      ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', true],
      ['curl/8.5.0', true],
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
        true,
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
        false,
      ],
    ];
    for (const [userAgent, bot] of agents) {
      const [out] = await enrichEvents(
        [{ type: 'track', event: 'x', name: undefined, category: undefined, channel: undefined }],
        { ...facts, userAgent },
        deps,
      );
      expect(out?.enrichment?.bot, userAgent).toBe(bot);
    }
    const [none] = await enrichEvents(
      [{ type: 'track', event: 'x', name: undefined, category: undefined, channel: undefined }],
      { projectId: 'p', receivedAtMs: 0 },
      deps,
    );
    expect(none?.enrichment?.bot).toBeUndefined();
  });

  it("does not judge a server or app SDK by its HTTP client: only the person's own user agent", async () => {
    const event = (context: Record<string, unknown>) =>
      ({
        type: 'track',
        event: 'x',
        name: undefined,
        category: undefined,
        channel: undefined,
        context,
      }) as const;
    const sdk = { library: { name: '@segment/analytics-node', version: '2.1.0' } };
    const [server] = await enrichEvents(
      [event(sdk)],
      { ...facts, userAgent: 'analytics-node-next/latest' },
      deps,
    );
    expect(server?.enrichment?.bot).toBeUndefined();
    const crawler = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
    const [forwarded] = await enrichEvents(
      [event({ ...sdk, userAgent: crawler })],
      { ...facts, userAgent: 'analytics-node-next/latest' },
      deps,
    );
    expect(forwarded?.enrichment?.bot).toBe(true);
    const [script] = await enrichEvents([event({})], { ...facts, userAgent: 'curl/8.5.0' }, deps);
    expect(script?.enrichment?.bot).toBe(true);
  });
});

describe('ip hash', () => {
  it('is keyed, stable, 64-bit hex, and treats IPv4-mapped IPv6 as IPv4', async () => {
    const a = createIpHasher('salt-number-one-000');
    const b = createIpHasher('salt-number-two-000');
    expect(await a('203.0.113.1')).toMatch(/^[0-9a-f]{16}$/);
    expect(await a('203.0.113.1')).toBe(await a('::ffff:203.0.113.1'));
    expect(await a('203.0.113.1')).not.toBe(await b('203.0.113.1'));
    expect(await a('203.0.113.1')).not.toBe(await a('203.0.113.2'));
  });
});

describe('countryFrom', () => {
  it('takes two letters and ignores unknown codes', () => {
    expect(countryFrom('de')).toBe('DE');
    expect(countryFrom('XX')).toBeUndefined();
    expect(countryFrom('T1')).toBeUndefined();
    expect(countryFrom('Germany')).toBeUndefined();
    expect(countryFrom(undefined)).toBeUndefined();
  });
});
