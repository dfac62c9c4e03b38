/**
 * @module The query parameters of every endpoint, validated at the boundary
 * with zod. What comes out is typed and bounded: hour-aligned ranges of a
 * limited length, names that are plain strings (bound as SQL parameters
 * later), dimensions from a fixed list, property keys matching a strict
 * pattern. Anything else is a 400 that says which parameter and why.
 *
 * Over 300 lines: one schema per endpoint and the pieces they share: a table
 * of rules, not logic.
 */
import { z } from 'zod';
import { InputError } from '../shared/errors.ts';
import { ceilToHour, floorToHour, HOUR_MS, type HourRange, toWholeDays } from './hour-range.ts';
import type { Audience, EventFilter } from './queries/audience.ts';

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Property keys: `plan`, `cart.total`; at most four levels, nothing that needs quoting in a JSON path. */
const PROPERTY_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}$/;

/** Columns of the events table a top-N may group by (the whitelist: nothing else reaches SQL). */
export const TOP_COLUMNS = [
  'event',
  'page_path',
  'referrer_host',
  'country',
  'browser',
  'os',
  'device',
  'utm_source',
  'utm_medium',
  'utm_campaign',
] as const;
const TOP_DIMENSIONS = [...TOP_COLUMNS, 'property'] as const;
export type TopColumn = (typeof TOP_COLUMNS)[number];
export type TopDimension = (typeof TOP_DIMENSIONS)[number];

const LIMITS = {
  hourlyPoints: 24 * 31,
  rangeDays: 400,
  retentionDays: 92,
  topN: 100,
  funnelSteps: 8,
  funnelWindowSeconds: 90 * 24 * 3600,
  eventNameLength: 200,
  filters: 10,
  filterValueLength: 500,
} as const;

/** The per-visit dimensions of `/v1/insights/visits`. */
const VISIT_DIMENSIONS = ['source', 'entry_page', 'exit_page'] as const;
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number];

// 2000-01-01 .. 2999-12-31, a date alone or with a time; always UTC.
const INSTANT_PATTERN =
  /^(2\d{3})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]00:00)?)?$/;

function parseInstant(text: string): number | null {
  const m = INSTANT_PATTERN.exec(text);
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((part) => part ?? '0');
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls 2026-02-30 over into March: a real date reads back the same.
  const back = new Date(ms);
  const valid =
    back.getUTCFullYear() === Number(y) &&
    back.getUTCMonth() === Number(mo) - 1 &&
    back.getUTCDate() === Number(d) &&
    back.getUTCHours() === Number(h) &&
    back.getUTCMinutes() === Number(mi) &&
    back.getUTCSeconds() === Number(s);
  return valid ? ms : null;
}

const instant = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const ms = parseInstant(text);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a UTC date or time such as 2026-11-25 or 2026-11-25T09:00Z',
      });
      return z.NEVER;
    }
    return ms;
  });

const projectId = z.string().regex(PROJECT_ID_PATTERN, 'expected a project id (letters, digits, _ . -)');

const eventName = z
  .string()
  .min(1)
  .max(LIMITS.eventNameLength)
  .regex(/^[^\p{Cc}]*$/u, 'control characters are not allowed in an event name');

function boundedInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

const common = {
  project: projectId
    .optional()
    .describe('Project id; defaults to the project of the read key, which it must match.'),
  from: instant.describe('Start, UTC (2026-11-25 or 2026-11-25T09:00Z), rounded down to the hour.'),
  to: instant.describe('End, exclusive, UTC, rounded up to the hour.'),
};

const filterDescription = `A column equal to a value, \`dimension:value\` (country:DE, page_path:/pricing); dimension is one of ${TOP_COLUMNS.join(', ')}. Repeat for several, which must all hold (up to ${LIMITS.filters}).`;

const eventFilter = z
  .string()
  .max(LIMITS.filterValueLength + 40)
  .transform((text, ctx): EventFilter => {
    const colon = text.indexOf(':');
    const dimension = TOP_COLUMNS.find((c) => c === text.slice(0, colon));
    const value = text.slice(colon + 1);
    if (colon < 0 || dimension === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected dimension:value, dimension one of ${TOP_COLUMNS.join(', ')}`,
      });
      return z.NEVER;
    }
    if (value === '' || value.length > LIMITS.filterValueLength || /\p{Cc}/u.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `the value must be 1 to ${LIMITS.filterValueLength} characters, without control characters`,
      });
      return z.NEVER;
    }
    return { dimension, value };
  });

/** Who counts: filters on event columns, and bots (left out unless bots=include). */
const audience = {
  filter: z.array(eventFilter).max(LIMITS.filters).optional().describe(filterDescription),
  bots: z
    .enum(['exclude', 'include'])
    .default('exclude')
    .describe(
      'Whether events from bots (crawlers, HTTP clients, headless browsers) count; excluded by default.',
    ),
};

function toAudience(p: { filter?: EventFilter[] | undefined; bots: 'exclude' | 'include' }): Audience {
  return { filters: p.filter ?? [], includeBots: p.bots === 'include' };
}

function toRange(
  input: { from: number; to: number },
  ctx: z.RefinementCtx,
  maxHours: number,
  label: string,
): HourRange | null {
  const range = { from: new Date(floorToHour(input.from)), to: new Date(ceilToHour(input.to)) };
  if (range.to <= range.from) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    return null;
  }
  if (range.to.getTime() - range.from.getTime() > maxHours * HOUR_MS) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the range may span at most ${label}` });
    return null;
  }
  return range;
}

const rangeDaysLabel = `${LIMITS.rangeDays} days`;

export const timeseriesParams = z
  .strictObject({
    ...common,
    interval: z
      .enum(['hour', 'day'])
      .default('day')
      .describe('Bucket size; a daily series covers whole days.'),
    event: eventName
      .optional()
      .describe('Only this event (e.g. $pageview, Signed Up); all events when absent.'),
    ...audience,
  })
  .transform((p, ctx) => {
    const maxHours = p.interval === 'hour' ? LIMITS.hourlyPoints : LIMITS.rangeDays * 24;
    const label = p.interval === 'hour' ? `${LIMITS.hourlyPoints} hours by the hour` : rangeDaysLabel;
    let range = toRange(p, ctx, maxHours, label);
    // A daily series covers whole days, so its first and last points are not partial days.
    if (range && p.interval === 'day') range = toWholeDays(range);
    if (!range) return z.NEVER;
    return {
      project: p.project,
      range,
      interval: p.interval,
      event: p.event ?? null,
      audience: toAudience(p),
    };
  });

export const topParams = z
  .strictObject({
    ...common,
    dimension: z
      .enum(TOP_DIMENSIONS)
      .describe('What to rank; property ranks the values of one properties key.'),
    property: z
      .string()
      .max(300)
      .regex(PROPERTY_KEY_PATTERN, 'expected a property key such as plan or cart.total')
      .optional()
      .describe('The properties key, with dimension=property: plan, cart.total.'),
    event: eventName.optional().describe('Only rows of this event ($pageview for top pages).'),
    limit: boundedInt(1, LIMITS.topN)
      .default(10)
      .describe(`How many values, 1 to ${LIMITS.topN} (default 10).`),
    ...audience,
  })
  .transform((p, ctx) => {
    const propertyRequired = p.dimension === 'property';
    if (propertyRequired !== (p.property !== undefined)) {
      const message = propertyRequired
        ? 'required when dimension is property'
        : 'only allowed when dimension is property';
      ctx.addIssue({ code: 'custom', path: ['property'], message });
    }
    const range = toRange(p, ctx, LIMITS.rangeDays * 24, rangeDaysLabel);
    if (!range || propertyRequired !== (p.property !== undefined)) return z.NEVER;
    return {
      project: p.project,
      range,
      dimension: p.dimension,
      property: p.property ?? null,
      event: p.event ?? null,
      limit: p.limit,
      audience: toAudience(p),
    };
  });

export const funnelParams = z
  .strictObject({
    ...common,
    step: z
      .array(eventName)
      .min(2, 'give at least two steps')
      .max(LIMITS.funnelSteps)
      .describe(`Event names in order, repeated: step=A&step=B (2 to ${LIMITS.funnelSteps}).`),
    window: boundedInt(1, LIMITS.funnelWindowSeconds)
      .default(86_400)
      .describe('Seconds from the first step within which the rest must happen (default 86400).'),
    ...audience,
  })
  .transform((p, ctx) => {
    const range = toRange(p, ctx, LIMITS.rangeDays * 24, rangeDaysLabel);
    if (!range) return z.NEVER;
    return { project: p.project, range, steps: p.step, windowSeconds: p.window, audience: toAudience(p) };
  });

export const retentionParams = z
  .strictObject({
    ...common,
    event: eventName.optional().describe('Only this event counts as activity.'),
    ...audience,
  })
  .transform((p, ctx) => {
    const range = toRange(p, ctx, LIMITS.retentionDays * 24, `${LIMITS.retentionDays} days`);
    if (!range) return z.NEVER;
    // Cohorts are days: the range is widened to whole days.
    return {
      project: p.project,
      range: toWholeDays(range),
      event: p.event ?? null,
      audience: toAudience(p),
    };
  });

export const summaryParams = z.strictObject({ ...common, ...audience }).transform((p, ctx) => {
  const range = toRange(p, ctx, LIMITS.rangeDays * 24, rangeDaysLabel);
  if (!range) return z.NEVER;
  return { project: p.project, range, audience: toAudience(p) };
});

export const visitsParams = z
  .strictObject({
    ...common,
    dimension: z
      .enum(VISIT_DIMENSIONS)
      .describe(
        "Per visit: source (the entry page's referrer host; none, or the site's own host, is Direct / None), entry_page or exit_page.",
      ),
    limit: boundedInt(1, LIMITS.topN)
      .default(10)
      .describe(`How many values, 1 to ${LIMITS.topN} (default 10).`),
    ...audience,
  })
  .transform((p, ctx) => {
    const range = toRange(p, ctx, LIMITS.rangeDays * 24, rangeDaysLabel);
    if (!range) return z.NEVER;
    return { project: p.project, range, dimension: p.dimension, limit: p.limit, audience: toAudience(p) };
  });

export const goalParams = z
  .strictObject({
    ...common,
    event: eventName.optional().describe('The goal is this event (Signed Up); give event or page.'),
    page: z
      .string()
      .min(1)
      .max(LIMITS.filterValueLength)
      .regex(/^[^\p{Cc}]*$/u, 'control characters are not allowed in a page path')
      .optional()
      .describe('The goal is a page view of this path (/pricing); give event or page.'),
    ...audience,
  })
  .transform((p, ctx) => {
    if ((p.event === undefined) === (p.page === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['event'], message: 'give exactly one of event and page' });
    }
    const range = toRange(p, ctx, LIMITS.rangeDays * 24, rangeDaysLabel);
    if (!range || (p.event === undefined) === (p.page === undefined)) return z.NEVER;
    const goal = p.event !== undefined ? { event: p.event } : { page: p.page ?? '' };
    return { project: p.project, range, goal, audience: toAudience(p) };
  });

export const projectParams = z.strictObject({ project: projectId.optional() });

/** Parameters that may repeat; every other one must appear at most once. */
const REPEATABLE = new Set(['step', 'filter']);

/** The query string as the schemas expect it: repeatable keys as arrays, the rest as single strings. */
export function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const repeated: string[] = [];
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    if (REPEATABLE.has(key)) out[key] = values;
    else if (values.length > 1) repeated.push(key);
    else out[key] = values[0] ?? '';
  }
  if (repeated.length > 0) {
    throw new InputError(`${repeated.map(describeKey).join(', ')}: given more than once`, {
      status: 400,
      code: 'invalid_parameter',
    });
  }
  return out;
}

function describeKey(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

/** Parses with a schema or throws a 400 InputError naming each bad parameter. */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'query';
      if (issue.code === 'unrecognized_keys')
        return `unknown parameter ${issue.keys.map(describeKey).join(', ')}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
  throw new InputError(message, { status: 400, code: 'invalid_parameter' });
}
