/**
 * Consumer, unit level in workerd: the Worker's `queue` handler called on a
 * made-up batch (createMessageBatch), forwarding to the REAL Node relays of
 * global-setup.ts; getQueueResult tells which messages were acked and which
 * retried (and with what delay).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker, { type Env } from '../worker.ts';
import { EVENTS_QUEUE_NAME } from './relay-fixture.ts';
import { cluster, enrichedEvent, messagesOf, queued, relayedIds } from './worker-test-kit.ts';

async function consume(messages: ReturnType<typeof messagesOf>, bindings: Partial<Env> = {}) {
  const batch = createMessageBatch(EVENTS_QUEUE_NAME, messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings });
  return getQueueResult(batch, ctx);
}

describe('queue consumer', () => {
  it('forwards each message to its home region relay and acks what the relay took', async () => {
    const p = 'consumer-home';
    const messages = messagesOf(p, [
      queued([enrichedEvent(`${p}-eu-1`), enrichedEvent(`${p}-eu-2`)], { continent: 'EU', colo: 'FRA' }),
      queued([enrichedEvent(`${p}-us-1`)], { continent: 'NA', colo: 'IAD' }),
      // Neither colo nor continent in the table: the default region (eu).
      queued([enrichedEvent(`${p}-eu-3`)], {}),
    ]);
    const result = await consume(messages);

    expect(result.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(await relayedIds('eu', p)).toEqual([`${p}-eu-1`, `${p}-eu-2`, `${p}-eu-3`]);
    expect(await relayedIds('us', p)).toEqual([`${p}-us-1`]);
  });

  it('fails over to the next region when the home region relay is down', async () => {
    const p = 'consumer-failover';
    // AS → region ap, whose only relay is a port with nothing listening; ap fails over to us, then eu.
    const messages = messagesOf(p, [
      queued([enrichedEvent(`${p}-1`), enrichedEvent(`${p}-2`)], { continent: 'AS' }),
    ]);
    const result = await consume(messages);

    expect(result.explicitAcks).toEqual([messages[0]!.id]);
    expect(await relayedIds('us', p)).toEqual([`${p}-1`, `${p}-2`]);
    expect(await relayedIds('eu', p)).toEqual([]);
  });

  it('skips a dead relay listed first within a region and uses the region’s next relay', async () => {
    const p = 'consumer-in-region';
    const { relays, deadRelay } = cluster();
    const regions = {
      regions: { eu: [deadRelay, relays.eu], us: [relays.us] },
      default: 'eu',
    };
    const result = await consume(messagesOf(p, [queued([enrichedEvent(`${p}-1`)])]), {
      REGIONS: JSON.stringify(regions),
    });

    expect(result.explicitAcks).toHaveLength(1);
    expect(await relayedIds('eu', p)).toEqual([`${p}-1`]);
  });

  it('retries with exponential backoff, acking nothing, when every relay is down', async () => {
    const p = 'consumer-all-down';
    const regions = JSON.stringify({ regions: { eu: [cluster().deadRelay] }, default: 'eu' });
    // createMessageBatch's result drops retry delays, so the messages' retry() calls are watched.
    const delays: Record<string, unknown> = {};
    const batch = createMessageBatch(
      EVENTS_QUEUE_NAME,
      [1, 4, 40].map((attempts) => ({
        ...messagesOf(`${p}-${attempts}`, [queued([enrichedEvent(p)])], attempts)[0]!,
      })),
    );
    for (const message of batch.messages) {
      const retry = message.retry.bind(message);
      vi.spyOn(message, 'retry').mockImplementation((options) => {
        delays[message.id] = options?.delaySeconds;
        retry(options);
      });
    }
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, REGIONS: regions });
    const result = await getQueueResult(batch, ctx);

    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(3);
    // Base 5 s doubled per attempt, capped at 900 s, ±20 % jitter.
    expect(delays[`${p}-1-msg-0`]).toBeGreaterThanOrEqual(4);
    expect(delays[`${p}-1-msg-0`]).toBeLessThanOrEqual(6);
    expect(delays[`${p}-4-msg-0`]).toBeGreaterThanOrEqual(32);
    expect(delays[`${p}-4-msg-0`]).toBeLessThanOrEqual(48);
    expect(delays[`${p}-40-msg-0`]).toBeGreaterThanOrEqual(720);
    expect(delays[`${p}-40-msg-0`]).toBeLessThanOrEqual(1080);
  });

  it('does not ack a batch the relays refuse as forged (wrong HMAC key)', async () => {
    const p = 'consumer-forged';
    const result = await consume(messagesOf(p, [queued([enrichedEvent(`${p}-1`)], { continent: 'EU' })]), {
      RELAY_SECRET: 'not-the-relays-secret-0123456789',
    });

    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([`${p}-msg-0`]);
    // Both regions were asked (a secret rotation may have reached one), neither took it.
    expect(await relayedIds('eu', p)).toEqual([]);
    expect(await relayedIds('us', p)).toEqual([]);
  });

  it('retries a malformed message (for the dead letter queue) and still delivers the rest', async () => {
    const p = 'consumer-malformed';
    const messages = messagesOf(p, [{ not: 'ours' }, queued([enrichedEvent(`${p}-1`)], { continent: 'EU' })]);
    // Its error line is expected: kept out of the test output.
    const result = await consume(messages, { LOG_LEVEL: 'silent' });

    expect(result.explicitAcks).toEqual([messages[1]!.id]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([messages[0]!.id]);
    expect(await relayedIds('eu', p)).toEqual([`${p}-1`]);
  });

  it('retries every message while the configuration is broken', async () => {
    const p = 'consumer-misconfigured';
    const messages = messagesOf(p, [queued([enrichedEvent(`${p}-1`)])]);
    await expect(consume(messages, { REGIONS: '{"regions": {}}' })).rejects.toThrow(/REGIONS/);
  });
});
