import { describe, expect, it } from 'vitest';
import { ACME_KEY, BETA_KEY, testApp } from './fixtures/test-app.ts';

const range = 'from=2026-11-20&to=2026-11-21';

describe('read keys', () => {
  it('answers 401 without a key, with a malformed header, or with an unknown key', async () => {
    const { get, catalog } = testApp();
    for (const key of [null, 'rk_nope_0123456789abcdef']) {
      const res = await get(`/v1/insights/summary?${range}`, key);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    const { app } = testApp();
    const basic = await app.request(`/v1/insights/summary?${range}`, {
      headers: { authorization: `Basic ${ACME_KEY}` },
    });
    expect(basic.status).toBe(401);
    expect(catalog.queries).toHaveLength(0);
  });

  it('answers 403 for another project, known or not, and never queries', async () => {
    const { get, catalog } = testApp();
    for (const project of ['beta', 'nonexistent']) {
      const res = await get(`/v1/insights/summary?${range}&project=${project}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect(catalog.queries).toHaveLength(0);
  });

  it('scopes every query to the key’s project', async () => {
    const { get, catalog } = testApp();
    expect((await get(`/v1/insights/summary?${range}`, BETA_KEY)).status).toBe(200);
    expect((await get(`/v1/insights/summary?${range}&project=acme`)).status).toBe(200);
    expect(catalog.queries.map((q) => q.params[0] === 'beta' || q.params.includes('beta'))).toEqual([
      true,
      false,
    ]);
    expect(catalog.queries[1]?.params).toContain('acme');
  });

  it('tells the dashboard which project a key opens', async () => {
    const { get } = testApp();
    const res = await get('/v1/insights/project');
    expect(await res.json()).toEqual({ project: { id: 'acme', name: 'Acme Shop' } });
  });
});

describe('answers', () => {
  it('returns the envelope, the source and the answer, then serves it from the cache', async () => {
    const { get, catalog } = testApp();
    catalog.rows = [{ dt: '2026-11-20', hour: '03', events: 4, visitors: 2 }];
    const path = `/v1/insights/timeseries?from=2026-11-20T02:00Z&to=2026-11-20T04:00Z&interval=hour`;
    const first = await get(path);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-insights-cache')).toBe('miss');
    const body = await first.json();
    expect(body).toEqual({
      project: 'acme',
      from: '2026-11-20T02:00:00.000Z',
      to: '2026-11-20T04:00:00.000Z',
      source: 'rollup',
      interval: 'hour',
      event: null,
      points: [
        { time: '2026-11-20T02:00:00.000Z', events: 0, visitors: 0 },
        { time: '2026-11-20T03:00:00.000Z', events: 4, visitors: 2 },
      ],
    });
    const second = await get(path);
    expect(second.headers.get('x-insights-cache')).toBe('hit');
    expect(await second.json()).toEqual(body);
    expect(catalog.queries).toHaveLength(1);
    // Another project's identical request is not answered from acme's cache.
    await get(path, BETA_KEY);
    expect(catalog.queries).toHaveLength(2);
  });

  it('runs identical requests that arrive together once, and shares the answer', async () => {
    const { get, catalog, deps } = testApp();
    catalog.rows = [{ cur: 1, visitors: 3, sessions: 4 }];
    let open = () => {};
    catalog.gate = new Promise((resolve) => {
      open = resolve;
    });
    const path = `/v1/insights/summary?${range}`;
    const pending = [get(path), get(path), get(path)];
    const other = get(`/v1/insights/summary?from=2026-11-19&to=2026-11-21`);
    await expect.poll(() => catalog.queries.length).toBe(2);
    open();
    const answers = await Promise.all(pending);
    const bodies = await Promise.all(answers.map((res) => res.text()));
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0] ?? '{}').current.visitors).toBe(3);
    expect((await other).status).toBe(200);
    // Two statements for four requests: the three identical ones shared one.
    expect(catalog.queries).toHaveLength(2);
    const metrics = await deps.metrics.registry.metrics();
    expect(metrics).toContain('insights_cache_lookups_total{query="summary",result="shared"} 2');
    expect(metrics).toContain('insights_cache_lookups_total{query="summary",result="miss"} 2');
  });

  it('keeps a shared query running while one request still waits, and cancels it when none does', async () => {
    const { get, catalog } = testApp();
    let open = () => {};
    catalog.gate = new Promise((resolve) => {
      open = resolve;
    });
    const path = `/v1/insights/top?${range}&dimension=country`;
    const leaving = new AbortController();
    const first = Promise.resolve(get(path, ACME_KEY, { signal: leaving.signal })).catch(
      (err: unknown) => err,
    );
    const second = get(path);
    await expect.poll(() => catalog.queries.length).toBe(1);
    leaving.abort();
    await first;
    expect(catalog.queries[0]?.signal?.aborted).toBe(false);
    open();
    expect((await second).status).toBe(200);

    // Everyone gone: the engine query is cancelled.
    catalog.gate = new Promise(() => {});
    const clients = [new AbortController(), new AbortController()];
    const other = `/v1/insights/top?${range}&dimension=browser`;
    const both = clients.map((client) =>
      Promise.resolve(get(other, ACME_KEY, { signal: client.signal })).catch((err: unknown) => err),
    );
    await expect.poll(() => catalog.queries.length).toBe(2);
    clients[0]?.abort();
    expect(catalog.queries[1]?.signal?.aborted).toBe(false);
    clients[1]?.abort();
    await Promise.all(both);
    expect(catalog.queries[1]?.signal?.aborted).toBe(true);
  });

  it('runs at most two raw-event queries at once, while rollup queries go straight to the engine', async () => {
    const { get, catalog } = testApp();
    let open = () => {};
    catalog.gate = new Promise((resolve) => {
      open = resolve;
    });
    const raw = ['country', 'browser', 'os'].map((d) =>
      get(`/v1/insights/top?${range}&dimension=${d}&filter=country:DE`),
    );
    await expect.poll(() => catalog.queries.length).toBe(2);
    const rollup = get(`/v1/insights/top?${range}&dimension=device`);
    await expect.poll(() => catalog.queries.length).toBe(3);
    expect(catalog.queries[2]?.sql).not.toContain('country = ?');
    open();
    expect((await Promise.all([...raw, rollup])).map((res) => res.status)).toEqual([200, 200, 200, 200]);
    expect(catalog.queries).toHaveLength(4);
  });

  it('answers 400 with a code and a message naming the parameter', async () => {
    const { get, catalog } = testApp();
    const res = await get(`/v1/insights/top?${range}&dimension=colour`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_parameter');
    expect(body.error.message).toMatch(/^dimension: /);
    expect(catalog.queries).toHaveLength(0);
  });

  it('answers 504 when the engine is slower than the timeout, and cancels the query', async () => {
    const { get, catalog } = testApp({ queryTimeoutMs: 20 });
    catalog.hang = true;
    const res = await get(`/v1/insights/summary?${range}`);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'query_timeout' } });
    expect(catalog.queries[0]?.signal?.aborted).toBe(true);
  });

  it('cancels the engine query when the client goes away', async () => {
    const { get, catalog } = testApp();
    catalog.hang = true;
    const client = new AbortController();
    const pending = get(`/v1/insights/summary?${range}`, ACME_KEY, { signal: client.signal });
    await expect.poll(() => catalog.queries.length).toBe(1);
    client.abort();
    const res = await Promise.resolve(pending).catch((err: unknown) => err);
    expect(catalog.queries[0]?.signal?.aborted).toBe(true);
    if (res instanceof Response) expect(res.status).toBe(499);
  });

  it('answers 502 when the engine fails, without leaking its message', async () => {
    const { get, catalog } = testApp();
    catalog.failWith = new Error('metastore exploded at /secret/path');
    const res = await get(`/v1/insights/summary?${range}`);
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.code).toBe('engine_error');
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});

describe('operations', () => {
  it('reports health, readiness and metrics', async () => {
    const { get, catalog } = testApp();
    expect((await get('/healthz', null)).status).toBe(200);
    expect((await get('/readyz', null)).status).toBe(200);
    expect(catalog.queries.at(-1)?.sql).toBe('SELECT 1 AS ok');
    catalog.failWith = new Error('down');
    expect((await get('/readyz', null)).status).toBe(503);
    catalog.failWith = null;
    await get(`/v1/insights/summary?${range}`);
    const metrics = await (await get('/metrics', null)).text();
    expect(metrics).toContain('insights_http_requests_total{route="/v1/insights/summary",status="200"} 1');
    expect(metrics).toContain('insights_cache_lookups_total{query="summary",result="miss"} 1');
    expect(metrics).toMatch(
      /insights_query_duration_seconds_count\{query="summary",source="rollup",outcome="ok"\} 1/,
    );
  });

  it('describes the API in OpenAPI 3.1 with every endpoint and its parameters', async () => {
    const { get } = testApp();
    const doc = await (await get('/openapi.json', null)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/insights/timeseries',
        '/v1/insights/top',
        '/v1/insights/funnel',
        '/v1/insights/retention',
        '/v1/insights/summary',
      ]),
    );
    const top = doc.paths['/v1/insights/top'].get;
    const names = top.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual([
      'project',
      'from',
      'to',
      'dimension',
      'property',
      'event',
      'limit',
      'filter',
      'bots',
    ]);
    const step = doc.paths['/v1/insights/funnel'].get.parameters.find(
      (p: { name: string }) => p.name === 'step',
    );
    expect(step).toMatchObject({ required: true, explode: true, schema: { type: 'array', minItems: 2 } });
  });

  it('serves the dashboard and uPlot, with a content security policy, and JSON 404s elsewhere', async () => {
    const { get } = testApp();
    const page = await get('/', null);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/dashboard/app.js">');
    const uplot = await get('/vendor/uplot.esm.js', null);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    for (const path of [
      '/dashboard/../app.ts',
      '/dashboard/%2e%2e/app.ts',
      '/node_modules/uplot/package.json',
    ]) {
      const res = await get(path, null);
      expect(res.status, path).toBe(404);
    }
  });
});
