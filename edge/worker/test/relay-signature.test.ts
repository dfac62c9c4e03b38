/**
 * The HMAC between the Worker's consumer and the Node relays, tested
 * against a REAL relay (global-setup.ts) from workerd: a batch signed with
 * the Worker's signing code is taken; a forged, tampered, stale or unsigned
 * one is refused with 401 and never reaches the relay's bus.
 */
import { describe, expect, it } from 'vitest';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_TIMESTAMP_HEADER,
  signRelayBody,
} from '../../relay/relay-signature.ts';
import { TEST_RELAY_SECRET } from './relay-fixture.ts';
import { cluster, enrichedEvent, relayedIds } from './worker-test-kit.ts';

const now = () => Math.floor(Date.now() / 1000);

async function postRelay(body: string, headers: Record<string, string>) {
  const response = await fetch(`${cluster().relays.eu}/v1/relay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

const batchOf = (id: string) => JSON.stringify({ events: [enrichedEvent(id)] });

describe('relay HMAC', () => {
  it('takes a batch signed with the shared secret', async () => {
    const body = batchOf('hmac-valid-0');
    const answer = await postRelay(body, await signRelayBody(TEST_RELAY_SECRET, body, now()));
    expect(answer.status).toBe(200);
    expect(await relayedIds('eu', 'hmac-valid-')).toEqual(['hmac-valid-0']);
  });

  it('refuses a batch signed with another key', async () => {
    const body = batchOf('hmac-forged-0');
    const answer = await postRelay(body, await signRelayBody('an-attackers-secret-0123456789', body, now()));
    expect(answer).toEqual({
      status: 401,
      body: expect.objectContaining({ error: expect.objectContaining({ code: 'signature_forged' }) }),
    });
  });

  it('refuses a signed batch whose body was changed afterwards', async () => {
    const headers = await signRelayBody(TEST_RELAY_SECRET, batchOf('hmac-tampered-0'), now());
    const answer = await postRelay(batchOf('hmac-tampered-1'), headers);
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('signature_forged');
  });

  it('refuses a correctly signed batch replayed after the skew window', async () => {
    const body = batchOf('hmac-stale-0');
    const answer = await postRelay(body, await signRelayBody(TEST_RELAY_SECRET, body, now() - 3600));
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('signature_stale');
  });

  it('refuses an unsigned batch and a malformed signature', async () => {
    const body = batchOf('hmac-unsigned-0');
    expect((await postRelay(body, {})).body.error?.code).toBe('signature_missing');
    const malformed = { [RELAY_SIGNATURE_HEADER]: 'v1=zz', [RELAY_TIMESTAMP_HEADER]: String(now()) };
    expect((await postRelay(body, malformed)).status).toBe(401);
  });

  it('lets none of the refused batches reach the bus', async () => {
    for (const prefix of ['hmac-forged-', 'hmac-tampered-', 'hmac-stale-', 'hmac-unsigned-']) {
      expect(await relayedIds('eu', prefix)).toEqual([]);
    }
  });
});
