/**
 * @module Seeded, realistic traffic for the demo: a small SaaS site over the
 * last few days. Visitors come from several countries (each with its own time
 * zone, so the daily curve is a sum of local days), on several browsers and
 * devices, through search, social, a newsletter and direct visits (referrers
 * and UTM tags); weekends are quieter, traffic grows a little day by day, and
 * a launch day brings a spike from Hacker News, Twitter and Product Hunt.
 * Sessions are page views with a few clicks, and a sign-up funnel with
 * drop-off: Pricing Viewed → Signup Started → Signup Completed, followed by
 * an identify call. Some visitors come back on later days.
 *
 * Events are shaped as the browser tracker (edge/tracker) sends them, so the
 * edge handles them exactly as real traffic.
 *
 * Over 300 lines: the demo site's tables (countries, browsers, sources,
 * pages) and the generator that draws from them.
 */
import { type Random, seededRandom } from './seeded-random.ts';

export const DEMO_FUNNEL = ['Pricing Viewed', 'Signup Started', 'Signup Completed'] as const;
const DEMO_SITE = 'https://demo-site.example';

/** A Segment-spec event as a browser library sends it (before the edge enriches it). */
export interface SegmentEvent {
  type: 'page' | 'track' | 'identify';
  event?: string;
  name?: string;
  messageId: string;
  anonymousId: string;
  userId?: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** One visit: its events, and what the edge learns from the request rather than the body. */
export interface DemoSession {
  country: string;
  userAgent: string;
  /** A made-up client address (documentation ranges); the edge hashes it and drops it. */
  ip: string;
  startMs: number;
  events: SegmentEvent[];
}

export interface TrafficOptions {
  seed: number;
  /** No event at or after this instant (usually now). */
  endMs: number;
  /** Whole UTC days of traffic before `endMs`'s day, plus that day up to `endMs`. */
  days: number;
  /** Sessions on an ordinary weekday; weekends, growth and the launch move it. */
  sessionsPerDay: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const COUNTRIES = [
  // code, weight, UTC offset (h), locale, time zone
  ['US', 30, -6, 'en-US', 'America/Chicago'],
  ['DE', 12, 1, 'de-DE', 'Europe/Berlin'],
  ['GB', 10, 0, 'en-GB', 'Europe/London'],
  ['IN', 10, 5.5, 'en-IN', 'Asia/Kolkata'],
  ['FR', 8, 1, 'fr-FR', 'Europe/Paris'],
  ['BR', 7, -3, 'pt-BR', 'America/Sao_Paulo'],
  ['JP', 6, 9, 'ja-JP', 'Asia/Tokyo'],
  ['CA', 5, -5, 'en-CA', 'America/Toronto'],
  ['AU', 4, 10, 'en-AU', 'Australia/Sydney'],
  ['NL', 4, 1, 'nl-NL', 'Europe/Amsterdam'],
  ['ES', 4, 1, 'es-ES', 'Europe/Madrid'],
] as const;

type Device = 'desktop' | 'mobile' | 'tablet';
const CHROME = 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0';
const SAFARI = 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1';
const BROWSERS: readonly (readonly [readonly [string, Device], number])[] = [
  [[`Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${CHROME} Safari/537.36`, 'desktop'], 30],
  [[`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${CHROME} Safari/537.36`, 'desktop'], 12],
  [[`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${SAFARI} Safari/605.1.15`, 'desktop'], 8],
  [
    [`Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) ${SAFARI} Mobile/15E148 Safari/604.1`, 'mobile'],
    16,
  ],
  [[`Mozilla/5.0 (Linux; Android 10; K) ${CHROME} Mobile Safari/537.36`, 'mobile'], 14],
  [[`Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${CHROME} Safari/537.36 Edg/131.0.0.0`, 'desktop'], 7],
  [['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'desktop'], 5],
  [['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'desktop'], 3],
  [[`Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) ${SAFARI} Mobile/15E148 Safari/604.1`, 'tablet'], 3],
  [
    [
      'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      'mobile',
    ],
    2,
  ],
  // Crawlers and scripts: the edge flags them (isbot) and the dashboard leaves them out by default.
  [['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'desktop'], 2],
  [['curl/8.5.0', 'desktop'], 1],
  [
    [
      `Mozilla/5.0 (X11; Linux x86_64) ${CHROME.replace('Chrome/', 'HeadlessChrome/')} Safari/537.36`,
      'desktop',
    ],
    1,
  ],
];
const SCREENS: Record<Device, readonly { width: number; height: number; density: number }[]> = {
  desktop: [
    { width: 1920, height: 1080, density: 1 },
    { width: 1440, height: 900, density: 2 },
    { width: 2560, height: 1440, density: 1 },
  ],
  mobile: [
    { width: 390, height: 844, density: 3 },
    { width: 412, height: 915, density: 2.625 },
  ],
  tablet: [{ width: 820, height: 1180, density: 2 }],
};

interface Channel {
  name: string;
  referrer: string;
  campaign?: { source: string; medium: string; name: string };
  landing: readonly (readonly [string, number])[];
  /** Only on the launch days (their weight is multiplied then, zero otherwise). */
  launch?: boolean;
}
const CHANNELS: readonly (readonly [Channel, number])[] = [
  [
    {
      name: 'direct',
      referrer: '',
      landing: [
        ['/', 6],
        ['/pricing', 2],
        ['/docs', 2],
      ],
    },
    34,
  ],
  [
    {
      name: 'google',
      referrer: 'https://www.google.com/',
      landing: [
        ['/', 4],
        ['/docs/getting-started', 3],
        ['/pricing', 2],
        ['/features', 2],
      ],
    },
    24,
  ],
  [
    {
      name: 'newsletter',
      referrer: '',
      campaign: { source: 'newsletter', medium: 'email', name: 'november-update' },
      landing: [
        ['/blog/launch-week', 6],
        ['/changelog', 2],
      ],
    },
    7,
  ],
  [
    {
      name: 'github',
      referrer: 'https://github.com/',
      landing: [
        ['/docs', 3],
        ['/', 2],
      ],
    },
    6,
  ],
  [
    {
      name: 'duckduckgo',
      referrer: 'https://duckduckgo.com/',
      landing: [
        ['/', 2],
        ['/docs', 1],
      ],
    },
    4,
  ],
  [
    {
      name: 'bing',
      referrer: 'https://www.bing.com/',
      landing: [
        ['/', 2],
        ['/pricing', 1],
      ],
    },
    3,
  ],
  [
    {
      name: 'twitter',
      referrer: 'https://t.co/',
      campaign: { source: 'twitter', medium: 'social', name: 'launch-week' },
      landing: [
        ['/blog/launch-week', 3],
        ['/', 2],
      ],
    },
    5,
  ],
  [
    {
      name: 'hacker news',
      referrer: 'https://news.ycombinator.com/',
      landing: [
        ['/blog/launch-week', 4],
        ['/', 1],
      ],
    },
    4,
  ],
  [
    {
      name: 'product hunt',
      referrer: 'https://www.producthunt.com/',
      campaign: { source: 'producthunt', medium: 'referral', name: 'launch-week' },
      landing: [
        ['/', 3],
        ['/pricing', 1],
      ],
      launch: true,
    },
    0,
  ],
];

const TITLES: Record<string, string> = {
  '/': 'Demo Site: analytics you own',
  '/features': 'Features',
  '/pricing': 'Pricing',
  '/docs': 'Documentation',
  '/docs/getting-started': 'Getting started',
  '/blog': 'Blog',
  '/blog/launch-week': 'Launch week',
  '/changelog': 'Changelog',
  '/about': 'About us',
  '/signup': 'Sign up',
};
const NEXT_PAGE: readonly (readonly [string, number])[] = [
  ['/pricing', 25],
  ['/features', 20],
  ['/docs', 12],
  ['/docs/getting-started', 10],
  ['/', 10],
  ['/blog', 8],
  ['/blog/launch-week', 5],
  ['/changelog', 5],
  ['/about', 5],
];
const PLANS: readonly (readonly [string, number])[] = [
  ['free', 5],
  ['pro', 4],
  ['team', 2],
];
/** Relative sessions by local hour of day: quiet nights, busy office hours, a second evening peak. */
const LOCAL_HOURS = [
  1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 5, 6, 6.5, 6.5, 6, 6.5, 6, 5.5, 5, 5, 5.5, 5, 4, 3, 2,
];

interface Visitor {
  anonymousId: string;
  userId?: string;
  country: (typeof COUNTRIES)[number];
  userAgent: string;
  device: Device;
  screen: { width: number; height: number; density: number };
  ip: string;
}

function newVisitor(rand: Random): Visitor {
  const country = rand.weighted(COUNTRIES.map((c) => [c, c[1]] as const));
  const [userAgent, device] = rand.weighted(BROWSERS);
  // Documentation address blocks (RFC 5737): made up, never a real person's.
  const block = rand.pick(['192.0.2', '198.51.100', '203.0.113']);
  return {
    anonymousId: rand.uuid(),
    country,
    userAgent,
    device,
    screen: rand.pick(SCREENS[device]),
    ip: `${block}.${rand.int(1, 254)}`,
  };
}

/** How busy day `index` (0 = oldest) is, and whether it is one of the launch days. */
function dayShape(dayStartMs: number, index: number, days: number): { factor: number; launch: number } {
  const weekday = new Date(dayStartMs).getUTCDay();
  const weekend = weekday === 0 || weekday === 6 ? 0.65 : 1;
  const growth = 1 + 0.02 * index;
  // The launch: five days before the last, with a long tail.
  const sinceLaunch = index - (days - 5);
  const launch = days >= 7 && sinceLaunch >= 0 && sinceLaunch < 3 ? [2.2, 1.5, 1.2][sinceLaunch]! : 1;
  return { factor: weekend * growth * launch, launch };
}

/** Every session of the period, oldest first; the same options always give the same sessions. */
export function demoTraffic(options: TrafficOptions): DemoSession[] {
  const rand = seededRandom(options.seed);
  const firstDay = Math.floor(options.endMs / DAY_MS) * DAY_MS - options.days * DAY_MS;
  const visitors: Visitor[] = [];
  const sessions: DemoSession[] = [];
  let users = 0;
  for (let index = 0; index <= options.days; index++) {
    const dayStart = firstDay + index * DAY_MS;
    const shape = dayShape(dayStart, index, options.days);
    const count = Math.round(options.sessionsPerDay * shape.factor * (0.9 + 0.2 * rand.next()));
    const channels = CHANNELS.map(([channel, weight]) => {
      const boosted = ['twitter', 'hacker news', 'product hunt'].includes(channel.name) && shape.launch > 1;
      return [channel, boosted ? Math.max(weight, 4) * 4 * shape.launch : weight] as const;
    });
    for (let s = 0; s < count; s++) {
      const returning = visitors.length > 20 && rand.chance(0.22);
      const visitor = returning ? rand.pick(visitors) : newVisitor(rand);
      if (!returning) visitors.push(visitor);
      const localHour = rand.weighted(LOCAL_HOURS.map((w, h) => [h, w] as const));
      const startMs =
        dayStart + (localHour - visitor.country[2]) * HOUR_MS + rand.int(0, HOUR_MS / 1000 - 1) * 1000;
      const channel = returning && rand.chance(0.6) ? CHANNELS[0]![0] : rand.weighted(channels);
      const session = visit(rand, visitor, channel, startMs, () => `user-${options.seed}-${++users}`);
      // Nothing from the future, nor from before the first day (a far-east morning starts the day before in UTC).
      session.events = session.events.filter((e) => {
        const ms = Date.parse(e.timestamp);
        return ms >= firstDay && ms < options.endMs;
      });
      if (session.events.length > 0) sessions.push(session);
    }
  }
  return sessions.sort((a, b) => a.startMs - b.startMs);
}

/** One session: page views with a few clicks, perhaps the sign-up funnel. */
function visit(
  rand: Random,
  visitor: Visitor,
  channel: Channel,
  startMs: number,
  newUserId: () => string,
): DemoSession {
  const events: SegmentEvent[] = [];
  const sessionId = rand.uuid();
  let t = startMs;
  let previousUrl = channel.referrer;
  let page: Record<string, unknown> = {};
  let campaign: Channel['campaign'];
  const base = (): Omit<SegmentEvent, 'type'> => ({
    messageId: rand.uuid(),
    anonymousId: visitor.anonymousId,
    ...(visitor.userId ? { userId: visitor.userId } : {}),
    timestamp: new Date(t).toISOString(),
    context: {
      library: { name: 'beacon-to-hive-demo', version: '1.0.0' },
      userAgent: visitor.userAgent,
      locale: visitor.country[3],
      timezone: visitor.country[4],
      screen: visitor.screen,
      page,
      ...(campaign ? { campaign } : {}),
      sessionId,
    },
  });
  const view = (path: string, landing: boolean) => {
    const search =
      landing && channel.campaign
        ? `?utm_source=${channel.campaign.source}&utm_medium=${channel.campaign.medium}&utm_campaign=${channel.campaign.name}`
        : '';
    const url = `${DEMO_SITE}${path}${search}`;
    // Like the tracker: the campaign belongs to the page whose URL carried it.
    campaign = landing ? channel.campaign : undefined;
    page = { path, referrer: previousUrl, search, title: TITLES[path] ?? path, url };
    events.push({ ...base(), type: 'page', name: TITLES[path] ?? path, properties: { ...page } });
    previousUrl = url;
  };
  const track = (event: string, properties: Record<string, unknown>) => {
    t += rand.int(1, 12) * 1000;
    events.push({ ...base(), type: 'track', event, properties });
  };
  const signup = (plan: string) => {
    t += rand.int(5, 40) * 1000;
    view('/signup', false);
    track('Signup Started', { plan });
    if (!rand.chance(0.55)) return;
    t += rand.int(30, 180) * 1000;
    track('Signup Completed', { plan, billing: rand.pick(['monthly', 'yearly']) });
    // Identify after the last funnel step: insights counts a visitor by userId once there is one.
    visitor.userId = newUserId();
    t += 500;
    events.push({
      ...base(),
      type: 'identify',
      traits: {
        email: `${visitor.userId}@example.com`,
        plan,
        createdAt: new Date(t).toISOString(),
      },
    });
  };

  const bounce = rand.chance(0.38);
  const pages = bounce ? 1 : rand.int(2, 7);
  let path = rand.weighted(channel.landing);
  for (let i = 0; i < pages; i++) {
    if (i > 0) {
      t += rand.int(8, 150) * 1000;
      let next = rand.weighted(NEXT_PAGE);
      while (next === path) next = rand.weighted(NEXT_PAGE);
      path = next;
    }
    view(path, i === 0);
    if (path === '/pricing') {
      const plan = rand.weighted(PLANS);
      track('Pricing Viewed', { plan, period: rand.pick(['monthly', 'yearly']) });
      if (!visitor.userId && rand.chance(0.32)) {
        signup(plan);
        break;
      }
    } else if (path === '/' && rand.chance(0.25)) {
      track('CTA Clicked', { location: rand.pick(['hero', 'nav', 'footer']), label: 'Start free' });
    } else if (path.startsWith('/docs') && rand.chance(0.3)) {
      track('Docs Searched', {
        query: rand.pick(['install', 'tracker', 'kafka', 'hive', 'funnels', 'api key']),
      });
    } else if (path === '/blog/launch-week' && rand.chance(0.2)) {
      track('Video Played', { video: 'product-tour', seconds: rand.int(5, 240) });
    }
  }
  return { country: visitor.country[0], userAgent: visitor.userAgent, ip: visitor.ip, startMs, events };
}
