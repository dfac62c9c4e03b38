/**
 * A corpus of hostile inputs sent through the HTTP layer. Each must either be
 * refused with a 400 (or 401/403) before any query runs, or reach the engine
 * only as a bound parameter: never as SQL text.
 */
import { describe, expect, it } from 'vitest';
import { ACME_KEY, testApp } from './fixtures/test-app.ts';

const range = 'from=2026-11-20&to=2026-11-22';

/** Free text that may legitimately be an event name: accepted, and bound verbatim. */
const BOUND_TEXT = [
  "' OR '1'='1",
  "x'; DROP TABLE events; --",
  '" OR ""="',
  '`id`',
  'a /* comment */ b',
  '-- comment',
  "' UNION SELECT message_id, ip_hash FROM events --",
  'UNION ALL SELECT 1',
  '\\',
  "\\'",
  '?',
  '$1',
  '%s',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the hostile input
  '${project}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HiveServer2's variable substitution syntax
  '${env:HOME}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HiveServer2's variable substitution syntax
  '${hiveconf:hive.metastore.uris}',
  'ünïcödé 日本語 🎉',
  '\u202eevil',
  'zero\u200bwidth',
  '\ud83d\ude00',
  'é'.repeat(200),
];

/** Refused before any query: 400. */
const REFUSED: [string, string][] = [
  ['event', 'a\u0000b'],
  ['event', 'line\nbreak'],
  ['event', 'x'.repeat(201)],
  ['event', ''],
  ['dimension', 'page_path; DROP TABLE events'],
  ['dimension', 'ip_hash'],
  ['dimension', 'properties'],
  ['dimension', 'event UNION SELECT 1'],
  ['property', "plan'"],
  ['property', 'plan) --'],
  ['property', '$.plan'],
  ['property', 'a.b.c.d.e'],
  ['property', 'plan UNION SELECT 1'],
  ['property', 'ключ'],
  ['property', 'a b'],
  ['property', 'a[0]'],
  ['property', 'a.*'],
  ['property', "' OR '1'='1"],
  ['limit', '1e309'],
  ['limit', '99999999999999999999'],
  ['limit', '-1'],
  ['limit', '0'],
  ['limit', '101'],
  ['limit', 'NaN'],
  ['limit', 'Infinity'],
  ['limit', '0x10'],
  ['limit', '1.5'],
  ['limit', '10 OR 1=1'],
  ['limit', '١٠'],
  ['from', "2026-11-20' OR '1'='1"],
  ['from', '2026-11-20T00:00Z--'],
  ['from', '+275760-09-13'],
  ['from', '99999-01-01'],
  ['from', '2026-11-20\u0000'],
  ['from', '1e309'],
  ['to', '2026-11-22; DROP TABLE events'],
];

describe('hostile input', () => {
  const pathsFor = (value: string) => {
    const v = encodeURIComponent(value);
    return [
      `/v1/insights/timeseries?${range}&event=${v}&interval=day`,
      `/v1/insights/timeseries?${range}&event=${v}&interval=hour`,
      `/v1/insights/top?${range}&dimension=page_path&event=${v}`,
      `/v1/insights/retention?${range}&event=${v}`,
      `/v1/insights/funnel?${range}&step=${v}&step=${v}`,
    ];
  };

  it.each(BOUND_TEXT)(
    'binds event name %j as a parameter on every endpoint that takes one',
    async (value) => {
      const benign = testApp();
      for (const path of pathsFor('benign')) await benign.get(path);
      const { get, catalog } = testApp();
      for (const path of pathsFor(value)) {
        const res = await get(path);
        expect(res.status, path).toBe(200);
      }
      expect(catalog.queries).toHaveLength(5);
      catalog.queries.forEach((q, i) => {
        // The SQL text is exactly what a benign name gives: the value changed only the parameters.
        expect(q.sql).toBe(benign.catalog.queries[i]?.sql);
        expect(q.params).toEqual(benign.catalog.queries[i]?.params.map((p) => (p === 'benign' ? value : p)));
      });
    },
  );

  it.each(REFUSED)('refuses %s=%j with a 400 before querying', async (name, value) => {
    const { get, catalog } = testApp();
    const base: Record<string, string> = {
      from: '2026-11-20',
      to: '2026-11-22',
      dimension: 'property',
      property: 'plan',
    };
    base[name] = value;
    if (name === 'dimension') delete base.property;
    const res = await get(`/v1/insights/top?${new URLSearchParams(base)}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_parameter');
    expect(body.error.message).toMatch(new RegExp(`^${name}: |; ${name}: `));
    expect(catalog.queries).toHaveLength(0);
  });

  it('refuses hostile parameter names and hostile project ids', async () => {
    const { get, catalog } = testApp();
    const names = await get(`/v1/insights/summary?${range}&${encodeURIComponent("x' OR 1=1 --")}=1`);
    expect(names.status).toBe(400);
    expect((await names.json()).error.message).toContain('unknown parameter');
    const project = await get(
      `/v1/insights/summary?${range}&project=${encodeURIComponent("acme' OR '1'='1")}`,
    );
    expect(project.status).toBe(403);
    const funnelWindow = await get(`/v1/insights/funnel?${range}&step=a&step=b&window=999999999999`);
    expect(funnelWindow.status).toBe(400);
    expect(catalog.queries).toHaveLength(0);
  });

  it('refuses hostile read keys with a 401', async () => {
    const { app, catalog } = testApp();
    for (const auth of [
      `Bearer ${ACME_KEY}' OR '1'='1`,
      'Bearer ',
      `Bearer ${'k'.repeat(300)}`,
      `Bearer ${ACME_KEY}\u00e9`,
    ]) {
      const res = await app.request(`/v1/insights/summary?${range}`, {
        headers: { authorization: Buffer.from(auth, 'utf8').toString('latin1') },
      });
      expect(res.status).toBe(401);
    }
    expect(catalog.queries).toHaveLength(0);
  });
});
