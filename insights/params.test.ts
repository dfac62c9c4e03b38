import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.ts';
import {
  funnelParams,
  parseParams,
  queryObject,
  retentionParams,
  summaryParams,
  timeseriesParams,
  topParams,
} from './params.ts';

function parse<S extends Parameters<typeof parseParams>[0]>(schema: S, query: string) {
  return parseParams(schema, queryObject(new URLSearchParams(query)));
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('ranges', () => {
  it('rounds from down and to up to whole hours, UTC', () => {
    const p = parse(timeseriesParams, 'from=2026-11-25T09:30Z&to=2026-11-25T11:10:05Z&interval=hour');
    expect(p.range.from.toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(p.range.to.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(p.interval).toBe('hour');
    expect(p.event).toBeNull();
  });

  it('widens a daily series and retention to whole days', () => {
    const p = parse(timeseriesParams, 'from=2026-11-25T09:00&to=2026-11-26T01:00');
    expect(p.interval).toBe('day');
    expect(p.range.from.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(p.range.to.toISOString()).toBe('2026-11-27T00:00:00.000Z');
    const r = parse(retentionParams, 'from=2026-11-25T09:00&to=2026-11-26T01:00');
    expect(r.range.to.toISOString()).toBe('2026-11-27T00:00:00.000Z');
  });

  it.each([
    ['from=2026-02-30&to=2026-03-02', /from: expected a UTC date/],
    ['from=2026-11-25&to=2026-11-24', /to: must be after from/],
    ['from=2026-11-25&to=2026-11-25', /to: must be after from/],
    ['from=2026-01-01&to=2027-06-01', /at most 400 days/],
    ['from=2026-11-25T09:00+02:00&to=2026-11-26', /from: expected a UTC date/],
    ['from=1999-12-31&to=2026-01-01', /from: expected a UTC date/],
    ['from=2026-11-25', /to: /],
    ['from=now&to=2026-11-26', /from: expected a UTC date/],
  ])('rejects %s', (query, message) => {
    const err = errorOf(() => parse(summaryParams, query));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_parameter');
    expect(err.message).toMatch(message);
  });

  it('limits hourly series to a month of points', () => {
    expect(() => parse(timeseriesParams, 'from=2026-01-01&to=2026-03-01&interval=hour')).toThrow(/744 hours/);
    expect(parse(timeseriesParams, 'from=2026-01-01&to=2026-03-01&interval=day').range.to.toISOString()).toBe(
      '2026-03-01T00:00:00.000Z',
    );
  });
});

describe('endpoint parameters', () => {
  const range = 'from=2026-11-20&to=2026-11-21';

  it('reads a top-N request with its default limit', () => {
    const p = parse(topParams, `${range}&dimension=page_path&event=%24pageview`);
    expect(p).toMatchObject({ dimension: 'page_path', event: '$pageview', limit: 10, property: null });
  });

  it('requires a property key for the property dimension, and only for it', () => {
    expect(parse(topParams, `${range}&dimension=property&property=cart.total`).property).toBe('cart.total');
    expect(() => parse(topParams, `${range}&dimension=property`)).toThrow(/property: required/);
    expect(() => parse(topParams, `${range}&dimension=country&property=plan`)).toThrow(
      /property: only allowed/,
    );
  });

  it('reads funnel steps in order from repeated parameters', () => {
    const p = parse(funnelParams, `${range}&step=Signed+Up&step=Order%2C+Completed&window=3600`);
    expect(p.steps).toEqual(['Signed Up', 'Order, Completed']);
    expect(p.windowSeconds).toBe(3600);
    expect(() => parse(funnelParams, `${range}&step=A`)).toThrow(/at least two steps/);
  });

  it('refuses unknown and repeated parameters', () => {
    expect(() => parse(summaryParams, `${range}&limt=3`)).toThrow(/unknown parameter "limt"/);
    expect(() => parse(summaryParams, `${range}&from=2026-11-19`)).toThrow(/"from": given more than once/);
  });

  it('refuses control characters in event names', () => {
    expect(() => parse(timeseriesParams, `${range}&event=a%00b`)).toThrow(/control characters/);
    expect(() => parse(timeseriesParams, `${range}&event=a%0Ab`)).toThrow(/control characters/);
  });
});
