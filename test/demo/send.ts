/**
 * @module Sends demo sessions to a running edge, two ways:
 *
 * - `sendBatches`: the public path, POST /v1/batch with the write key, one
 *   request per session as a browser would (its User-Agent, and the country
 *   in `cf-ipcountry` as Cloudflare sets it; the client address in
 *   `context.ip`, as a server-side SDK forwards it). The edge stamps
 *   `receivedAt` with its own clock: these events land in the current hour.
 * - `sendRelayed`: history. The warehouse partitions on `receivedAt`, which
 *   only the edge sets, so days of past traffic sent through /v1/batch would
 *   all land in this hour. The edge's trusted path that keeps a `receivedAt`
 *   is POST /v1/relay (HMAC-signed; the Cloudflare Worker's consumer uses it).
 *   Each event goes through the edge's own validate and enrich steps here,
 *   with the moment the browser would have sent it as `receivedAt`, then is
 *   signed and relayed: the same rows as live traffic, in the right hours.
 */

import pRetry, { AbortError } from 'p-retry';
import { createBotJudge } from '../../edge/pipeline/bot-agent.ts';
import { enrichEvents } from '../../edge/pipeline/enrich-events.ts';
import { incomingEventSchema } from '../../edge/pipeline/event-schema.ts';
import { createIpHasher } from '../../edge/pipeline/ip-hash.ts';
import { createUserAgentParser } from '../../edge/pipeline/user-agent.ts';
import { signRelayBody } from '../../edge/relay/relay-signature.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import type { DemoSession } from './traffic.ts';

export interface SendTarget {
  edgeUrl: string;
  writeKey: string;
  projectId: string;
}

export interface SendReport {
  /** messageIds the edge acknowledged (2xx: durable). */
  accepted: string[];
  rejected: number;
}

export type Progress = (eventsDone: number) => void;

/** Network errors, 429 and 5xx are retried (honouring Retry-After); other answers are final. */
async function post(url: string, init: () => Promise<RequestInit>): Promise<unknown> {
  return pRetry(
    async () => {
      const response = await fetch(url, await init());
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.ok) return body;
      const message = `${url} answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`;
      if (response.status === 429 || response.status >= 500) {
        const wait = Number(response.headers.get('retry-after') ?? 0);
        if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 30) * 1000));
        throw new Error(message);
      }
      throw new AbortError(message);
    },
    { retries: 8, minTimeout: 200, maxTimeout: 5000 },
  );
}

/** Runs `work` over `items` with at most `limit` in flight, in order of start. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The public path: one POST /v1/batch per session. */
export async function sendBatches(
  target: SendTarget,
  sessions: readonly DemoSession[],
  progress?: Progress,
): Promise<SendReport> {
  const report: SendReport = { accepted: [], rejected: 0 };
  let done = 0;
  const auth = `Basic ${Buffer.from(`${target.writeKey}:`).toString('base64')}`;
  await inParallel(sessions, 8, async (session) => {
    const batch = session.events.map((e) => ({ ...e, context: { ...e.context, ip: session.ip } }));
    const answer = (await post(`${target.edgeUrl}/v1/batch`, async () => ({
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/json',
        'user-agent': session.userAgent,
        'cf-ipcountry': session.country,
      },
      body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
    }))) as { rejected?: { index: number }[] };
    const refused = new Set((answer.rejected ?? []).map((r) => r.index));
    batch.forEach((e, i) => {
      if (!refused.has(i)) report.accepted.push(e.messageId);
    });
    report.rejected += refused.size;
    done += batch.length;
    progress?.(done);
  });
  return report;
}

/** History: enriched by the edge's own steps with a past receivedAt, then signed and relayed. */
export async function sendRelayed(
  target: SendTarget & { relaySecret: string },
  sessions: readonly DemoSession[],
  progress?: Progress,
): Promise<SendReport> {
  const deps = {
    parseUserAgent: createUserAgentParser(),
    isBot: createBotJudge(),
    // Any salt: the hash only has to tell visitors apart, and these addresses are made up.
    hashIp: createIpHasher('beacon-to-hive-demo-salt'),
    newMessageId: () => crypto.randomUUID(),
  };
  const enriched: EnrichedEvent[] = [];
  for (const session of sessions) {
    const hashedIp = await deps.hashIp(session.ip);
    for (const raw of session.events) {
      const event = incomingEventSchema.parse(raw);
      // The browser sends a moment after the event; the network adds a little more.
      const sentMs = Date.parse(raw.timestamp) + 200 + (raw.messageId.charCodeAt(0) % 8) * 100;
      const [one] = await enrichEvents(
        [event],
        {
          projectId: target.projectId,
          receivedAtMs: sentMs + 40,
          ipHash: hashedIp,
          country: session.country,
          userAgent: session.userAgent,
          sentAt: new Date(sentMs).toISOString(),
        },
        deps,
      );
      enriched.push(one!);
    }
  }
  const chunks: EnrichedEvent[][] = [];
  for (let i = 0; i < enriched.length; i += 1000) chunks.push(enriched.slice(i, i + 1000));
  const report: SendReport = { accepted: [], rejected: 0 };
  let done = 0;
  await inParallel(chunks, 2, async (events) => {
    const body = JSON.stringify({ events });
    await post(`${target.edgeUrl}/v1/relay`, async () => ({
      method: 'POST',
      // Signed at each attempt: the signature's timestamp bounds replays.
      headers: {
        'content-type': 'application/json',
        ...(await signRelayBody(target.relaySecret, body, Math.floor(Date.now() / 1000))),
      },
      body,
    }));
    for (const e of events) report.accepted.push(e.messageId);
    done += events.length;
    progress?.(done);
  });
  return report;
}
