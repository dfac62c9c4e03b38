/**
 * Insights behind its real HTTP server (startInsights): what Node's parser
 * refuses, such as a query string of 2,000 parameters, is a JSON answer in
 * the service's error envelope, and a stalled request is cut at the
 * deadline of the `http` config (shared/node-server.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.ts';
import { expectJsonError, parseResponses, rawExchange } from '../test/infra/raw-http.ts';
import { recordingCatalog } from './fixtures/recording-catalog.ts';
import { ACME_KEY } from './fixtures/test-app.ts';
import { type RunningInsights, startInsights } from './start.ts';

let insights: RunningInsights;
beforeAll(async () => {
  insights = await startInsights(
    {
      http: { host: '127.0.0.1', port: 0, requestTimeoutMs: 1200, headersTimeoutMs: 800 },
      projects: [{ id: 'acme', readKeys: [ACME_KEY] }],
      engine: { kind: 'hive', host: '127.0.0.1', port: 1 },
    },
    { catalog: recordingCatalog(), logger: createLogger('insights-test', 'silent') },
  );
});
afterAll(async () => {
  await insights.close();
});

describe('insights over HTTP', () => {
  it('answers 2,000 query parameters with a JSON 431, not an empty reply', async () => {
    const query = Array.from({ length: 2000 }, (_, i) => `parameter${i}=value`).join('&');
    const { text } = await rawExchange(insights.port, [
      `GET /v1/insights/summary?${query} HTTP/1.1\r\nHost: insights\r\nAuthorization: Bearer ${ACME_KEY}\r\n\r\n`,
    ]);
    expectJsonError(parseResponses(text)[0], 431, 'headers_too_large');
  });

  it('cuts a request whose headers stall with a JSON 408 at headersTimeoutMs', async () => {
    const { text, ms } = await rawExchange(insights.port, ['GET /healthz HTTP/1.1\r\nHost: insights\r\n']);
    expect(ms).toBeLessThan(3000);
    expectJsonError(parseResponses(text)[0], 408, 'request_timeout');
  });
});
