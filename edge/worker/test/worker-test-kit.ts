/**
 * @module The Worker tests' one fixture (workerd side): the relay cluster
 * from global-setup.ts, what each relay received, and builders of events
 * and queue messages.
 */
import { inject } from 'vitest';
import type { EnrichedEvent } from '../../../shared/event.ts';
import { QUEUE_MESSAGE_VERSION, type QueuedEvents } from '../queue-message.ts';
import type { AcceptRoute } from '../region-table.ts';
import { type RelayCluster, TEST_PROJECT } from './relay-fixture.ts';

export const cluster = (): RelayCluster => inject('relayCluster');

/** Events the region's Node relay has put on its bus so far. */
export async function relayedEvents(region: 'eu' | 'us'): Promise<EnrichedEvent[]> {
  const response = await fetch(`${cluster().observer}/events/${region}`);
  if (!response.ok) throw new Error(`observer answered ${response.status}`);
  return (await response.json()) as EnrichedEvent[];
}

/** The messageIds with `prefix` the region's relay received (sorted; repeats kept). */
export async function relayedIds(region: 'eu' | 'us', prefix: string): Promise<string[]> {
  return (await relayedEvents(region))
    .map((e) => e.messageId)
    .filter((id) => id.startsWith(prefix))
    .sort();
}

/** An event as the Worker's edge enriches it: what a queue message carries. */
export function enrichedEvent(messageId: string, overrides: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return {
    type: 'track',
    event: 'Worker Test',
    messageId,
    userId: `user-of-${messageId}`,
    timestamp: '2026-03-01T11:59:59.000Z',
    receivedAt: '2026-03-01T12:00:00.000Z',
    projectId: TEST_PROJECT.id,
    properties: { n: 1 },
    ...overrides,
  };
}

export function queued(events: EnrichedEvent[], route: AcceptRoute = {}): QueuedEvents {
  return { v: QUEUE_MESSAGE_VERSION, route, events };
}

/** Messages for createMessageBatch: `attempts` 1 unless given. */
export function messagesOf(prefix: string, bodies: unknown[], attempts = 1) {
  return bodies.map((body, i) => ({ id: `${prefix}-msg-${i}`, timestamp: new Date(0), attempts, body }));
}

export const basic = (key: string) => `Basic ${btoa(`${key}:`)}`;
