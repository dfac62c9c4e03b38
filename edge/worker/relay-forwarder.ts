/**
 * @module The queue consumer's work: forward each batch of queued events to
 * the regional Node relay (`POST <relay>/v1/relay`, HMAC-signed with the
 * relay's own signing code), failing over along the region table's plan.
 *
 * Rules:
 * - A message is acked only once a relay answered 2xx for the POST that
 *   carried it (the relay answers after Kafka or its disk spool has the
 *   events). Everything else is retried by the Queue with exponential
 *   backoff, and after max_retries lands in the dead letter queue: nothing
 *   is dropped here.
 * - Down (connection error, timeout, 5xx, 429, 408) or refusing (401/403:
 *   a secret mismatch, as during a rotation) means: try the next relay.
 *   Any other 4xx means the body itself is refused, which no other relay
 *   would take either: retry later (and let the DLQ keep it) instead.
 * - A relay that failed once in this invocation is tried last for the
 *   batch's later POSTs, so a dead region costs one timeout, not one per POST.
 * - A relay that took a POST but whose answer was lost gets it again: the
 *   duplicates are removed downstream by messageId.
 */
import type { EnrichedEvent } from '../../shared/event.ts';
import type { Logger } from '../../shared/logger.ts';
import { signRelayBody } from '../relay/relay-signature.ts';
import { queuedEventsSchema } from './queue-message.ts';
import { homeRegion, type RegionTable, type RelayTarget, relayPlan } from './region-table.ts';
import type { RelaySettings } from './worker-config.ts';

export interface ForwarderDeps {
  regions: RegionTable;
  settings: RelaySettings;
  relaySecret: string;
  logger: Logger;
  fetch: typeof fetch;
  nowMs: () => number;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
}

/** How a relay answered one POST. */
export type RelayOutcome = 'delivered' | 'unavailable' | 'refused' | 'rejected';

export function outcomeOfStatus(status: number): RelayOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 500 || status === 429 || status === 408) return 'unavailable';
  if (status === 401 || status === 403) return 'refused';
  return 'rejected';
}

/** Exponential backoff from the message's attempt count (1 on first delivery), ±20 % jitter. */
export function retryDelaySeconds(attempts: number, settings: RelaySettings, random: () => number): number {
  const exponential = settings.retryBaseSeconds * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(settings.retryMaxSeconds, exponential);
  return Math.max(1, Math.round(capped * (0.8 + 0.4 * random())));
}

/** What one invocation did, for logs and tests. */
export interface ForwardReport {
  delivered: number;
  retried: number;
  /** Every POST tried, in order. */
  attempts: { region: string; url: string; outcome: RelayOutcome | 'unreachable'; status?: number }[];
}

interface Pending {
  message: Message<unknown>;
  events: EnrichedEvent[];
  bytes: number;
}

const encoder = new TextEncoder();

export async function forwardBatch(
  batch: MessageBatch<unknown>,
  deps: ForwarderDeps,
): Promise<ForwardReport> {
  const report: ForwardReport = { delivered: 0, retried: 0, attempts: [] };
  const retry = (message: Message<unknown>) => {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, deps.settings, deps.random) });
    report.retried++;
  };

  const byRegion = new Map<string, Pending[]>();
  for (const message of batch.messages) {
    const parsed = queuedEventsSchema.safeParse(message.body);
    if (!parsed.success) {
      // Our own producer wrote it, so this is a bug: keep it for the DLQ.
      deps.logger.error({ messageId: message.id, issue: parsed.error.issues[0] }, 'malformed queue message');
      retry(message);
      continue;
    }
    const events = parsed.data.events as EnrichedEvent[];
    const region = homeRegion(deps.regions, parsed.data.route);
    const pending = byRegion.get(region) ?? [];
    pending.push({ message, events, bytes: encoder.encode(JSON.stringify(events)).byteLength });
    byRegion.set(region, pending);
  }

  const failed = new Set<string>();
  await Promise.all(
    [...byRegion].map(async ([region, pending]) => {
      const plan = relayPlan(deps.regions, region);
      for (const post of packPosts(pending, deps.settings.maxBodyBytes)) {
        const delivered = await deliver(post, plan, failed, deps, report);
        for (const p of post) {
          if (delivered) {
            p.message.ack();
            report.delivered++;
          } else {
            retry(p.message);
          }
        }
      }
    }),
  );
  if (report.retried > 0) {
    deps.logger.warn(
      { delivered: report.delivered, retried: report.retried, attempts: report.attempts },
      'relay delivery incomplete; messages will be retried',
    );
  }
  return report;
}

/** Messages to POSTs under the relay's body limit; a message is never split (it is acked whole). */
function packPosts(pending: Pending[], maxBodyBytes: number): Pending[][] {
  const posts: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    if (current.length > 0 && bytes + p.bytes > maxBodyBytes) {
      posts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length > 0) posts.push(current);
  return posts;
}

async function deliver(
  post: Pending[],
  plan: RelayTarget[],
  failed: Set<string>,
  deps: ForwarderDeps,
  report: ForwardReport,
): Promise<boolean> {
  const body = encoder.encode(JSON.stringify({ events: post.flatMap((p) => p.events) }));
  const ordered = [...plan.filter((t) => !failed.has(t.url)), ...plan.filter((t) => failed.has(t.url))];
  for (const target of ordered) {
    const result = await postOnce(target, body, deps);
    report.attempts.push({ region: target.region, url: target.url, ...result });
    if (result.outcome === 'delivered') return true;
    deps.logger.warn({ region: target.region, url: target.url, ...result }, 'relay did not take the batch');
    if (result.outcome === 'rejected') return false;
    failed.add(target.url);
  }
  return false;
}

async function postOnce(
  target: RelayTarget,
  body: Uint8Array,
  deps: ForwarderDeps,
): Promise<{ outcome: RelayOutcome | 'unreachable'; status?: number; detail?: string }> {
  // Signed per attempt: the timestamp stays fresh however long earlier relays took to fail.
  const signature = await signRelayBody(deps.relaySecret, body, Math.floor(deps.nowMs() / 1000));
  let response: Response;
  try {
    response = await deps.fetch(`${target.url}/v1/relay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signature },
      body,
      signal: AbortSignal.timeout(deps.settings.timeoutMs),
    });
  } catch (err) {
    return { outcome: 'unreachable', detail: err instanceof Error ? err.message : String(err) };
  }
  const outcome = outcomeOfStatus(response.status);
  // Always read the body: an unread one holds the connection open.
  const text = await response.text().catch(() => '');
  return outcome === 'delivered'
    ? { outcome, status: response.status }
    : { outcome, status: response.status, detail: text.slice(0, 300) };
}
