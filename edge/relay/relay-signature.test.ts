import { describe, expect, it } from 'vitest';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_TIMESTAMP_HEADER,
  signRelayBody,
  verifyRelaySignature,
} from './relay-signature.ts';

const secret = 'relay-secret-0123456789';
const body = new TextEncoder().encode('{"events":[]}');

async function verify(headers: Record<string, string>, now = 1000, b = body) {
  return verifyRelaySignature({
    secret,
    body: b,
    signatureHeader: headers[RELAY_SIGNATURE_HEADER],
    timestampHeader: headers[RELAY_TIMESTAMP_HEADER],
    nowSeconds: now,
    maxSkewSeconds: 300,
  });
}

describe('relay signature', () => {
  it('verifies what it signed, within the time window', async () => {
    const headers = await signRelayBody(secret, body, 1000);
    expect(headers[RELAY_SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(await verify(headers)).toEqual({ ok: true });
    expect(await verify(headers, 1299)).toEqual({ ok: true });
    expect(await verify(headers, 1301)).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses another body, another timestamp, another key or garbage', async () => {
    const headers = await signRelayBody(secret, body, 1000);
    expect(await verify(headers, 1000, new TextEncoder().encode('{"events":[1]}'))).toMatchObject({
      ok: false,
    });
    expect(await verify({ ...headers, [RELAY_TIMESTAMP_HEADER]: '1001' })).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(await verify(await signRelayBody('another-secret-000000', body, 1000))).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(await verify({ ...headers, [RELAY_SIGNATURE_HEADER]: 'v1=zz' })).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(await verify({ ...headers, [RELAY_TIMESTAMP_HEADER]: '1e3' })).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(await verify({})).toEqual({ ok: false, reason: 'missing' });
  });
});
