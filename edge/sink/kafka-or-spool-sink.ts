/**
 * @module The Node edge's sink: Kafka when it answers, the disk spool when it
 * does not. Invariant: `accept` resolves only once its events are acked by
 * the bus (acks=all) or fsynced in the spool.
 *
 * Modes. `direct`: each group of requests is one produce; if it fails or
 * takes longer than `produceTimeoutMs`, the group is written to the spool
 * instead and the sink switches to `spool`. `spool`: every group goes to the
 * spool, behind what is already there, while the drainer forwards segments
 * oldest first with backoff. `handoff`: once the backlog is down to one
 * produce (`handoffRecords`), new groups wait (for about one produce) while
 * the drainer takes the rest; then the sink goes back to `direct`. Without
 * that pause, clients that keep posting would keep the spool from ever being
 * empty (the drainer chasing its tail); if the bus fails during the handoff,
 * the waiting groups go to the spool after all. So one key's events reach
 * Kafka in the order they were acknowledged, except that a produce which
 * timed out may still land later (a duplicate, removed downstream by
 * messageId: delivery is at least once).
 *
 * Over 300 lines: the modes and the drainer are one state machine over one
 * spool; the pieces without that state live beside it (group-commit.ts,
 * spooled-message.ts, within.ts).
 */
import pRetry, { AbortError } from 'p-retry';
import { splitBatches } from '../../shared/batches.ts';
import type { EventBus } from '../../shared/bus/bus.ts';
import { BusError } from '../../shared/errors.ts';
import { type EnrichedEvent, eventKey } from '../../shared/event.ts';
import type { Logger } from '../../shared/logger.ts';
import { SinkUnavailableError } from '../edge-errors.ts';
import type { DiskSpool } from './disk-spool.ts';
import type { EventSink, SinkReadiness } from './event-sink.ts';
import { GroupCommit } from './group-commit.ts';
import { serialiseEvent } from './serialise-event.ts';
import { decodeSpooledMessage, encodeSpooledMessage, type SpooledMessage } from './spooled-message.ts';
import { within } from './within.ts';

export interface KafkaOrSpoolSinkOptions {
  /** One cluster's bus, or the region router (region-router.ts) across several. */
  bus: Pick<EventBus, 'produce'>;
  topic: string;
  spool: DiskSpool;
  logger: Logger;
  /** A produce slower than this counts as a failure: the events go to the spool. */
  produceTimeoutMs: number;
  /** The drainer's produce timeout (its batches are larger). */
  drainTimeoutMs: number;
  /** Messages in one produce call at most. */
  maxBatchMessages: number;
  /** Uncompressed bytes in one produce call at most (stays under the broker's message.max.bytes). */
  maxBatchBytes: number;
  /** Groups produced at once in direct mode. */
  maxInFlight: number;
  /** Backlog small enough to drain while new events wait (see `handoff`); defaults to maxBatchMessages. */
  handoffRecords?: number;
  drainBackoff: { minMs: number; maxMs: number };
}

export type SinkMode = 'direct' | 'spool' | 'handoff';

export interface SinkStats {
  mode: SinkMode;
  producedDirect: number;
  spooled: number;
  drained: number;
  /** Events of segments the bus refused for good, moved to the spool's dead/ directory. */
  quarantined: number;
  busFailures: number;
}

export class KafkaOrSpoolSink implements EventSink {
  private readonly o: KafkaOrSpoolSinkOptions;
  private readonly groups: GroupCommit<SpooledMessage>;
  private mode: SinkMode = 'direct';
  private drainer: Promise<void> | undefined;
  /** Settles when a handoff ends, whichever way. */
  private handoff: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly stopDrain = new AbortController();
  private closing = false;
  private readonly counters = { producedDirect: 0, spooled: 0, drained: 0, quarantined: 0, busFailures: 0 };

  constructor(options: KafkaOrSpoolSinkOptions) {
    this.o = options;
    this.groups = new GroupCommit((messages) => this.flush(messages), {
      maxItems: options.maxBatchMessages,
      maxInFlight: options.maxInFlight,
    });
  }

  /** Starts forwarding what a previous process left in the spool. */
  start(): void {
    if (!this.o.spool.isEmpty()) {
      this.mode = 'spool';
      this.ensureDrainer();
    }
  }

  accept(events: EnrichedEvent[]): Promise<void> {
    if (this.closing) {
      return Promise.reject(
        new SinkUnavailableError('The edge is shutting down; retry.', {
          code: 'shutting_down',
          retryAfterSeconds: 1,
        }),
      );
    }
    // Serialised here, per request: an event that cannot be (serialise-event.ts) fails its own request only.
    let messages: SpooledMessage[];
    try {
      messages = toMessages(events);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.groups.submit(messages);
  }

  readiness(): SinkReadiness {
    const spool = this.o.spool.stats();
    // Ready while a 2xx can be promised: Kafka up, or room left in the spool.
    const ready = !this.closing && (this.mode === 'direct' || spool.bytes < spool.maxBytes * 0.95);
    return { ready, detail: { mode: this.mode, spoolBytes: spool.bytes, spoolRecords: spool.records } };
  }

  stats(): SinkStats {
    return { mode: this.mode, ...this.counters };
  }

  private async flush(messages: SpooledMessage[]): Promise<void> {
    while (this.handoff) await this.handoff.promise;
    if (this.mode === 'direct') {
      try {
        await this.produce(messages, this.o.produceTimeoutMs);
        this.counters.producedDirect += messages.length;
        return;
      } catch (err) {
        this.counters.busFailures += 1;
        // Only direct turns to spool here: a handoff under way keeps its waiters and
        // its drainer, which picks these events up from the spool.
        if (this.mode === 'direct') {
          this.o.logger.warn({ err }, 'bus produce failed; spooling to disk');
          this.mode = 'spool';
        }
      }
    }
    await this.o.spool.append(messages.map(encodeSpooledMessage));
    this.counters.spooled += messages.length;
    this.ensureDrainer();
  }

  /** Produces in chunks, in order; each chunk bounded by count and bytes, time, and `signal`. */
  private async produce(
    messages: readonly SpooledMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const batches = splitBatches(messages, {
      maxCount: this.o.maxBatchMessages,
      maxBytes: this.o.maxBatchBytes,
      // String length approximates bytes closely enough for a safety bound well under the broker's.
      size: (m) => m.value.length + (m.key?.length ?? 0),
    });
    for (const chunk of batches) {
      await within(
        this.o.bus.produce(this.o.topic, chunk),
        timeoutMs,
        () => new Error(`bus produce took longer than ${timeoutMs} ms`),
        signal && { signal, onAbort: () => new AbortError('sink closing') },
      );
    }
  }

  private ensureDrainer(): void {
    if (this.drainer || this.stopDrain.signal.aborted) return;
    this.drainer = this.drain()
      .catch((err: unknown) => {
        if (!this.stopDrain.signal.aborted) this.o.logger.error({ err }, 'spool drainer stopped');
      })
      .finally(() => {
        this.drainer = undefined;
        // Appends that finished after the last look restart it.
        if (!this.o.spool.isEmpty() && !this.stopDrain.signal.aborted) this.ensureDrainer();
      });
  }

  private async drain(): Promise<void> {
    const { spool, logger } = this.o;
    const handoffRecords = this.o.handoffRecords ?? this.o.maxBatchMessages;
    // Clients wait during a handoff, so it starts only once the bus has just taken a
    // produce: never on a bus that may be down (at start-up, or after a failure).
    let busAnswered = false;
    while (!this.stopDrain.signal.aborted) {
      if (busAnswered && this.mode === 'spool' && spool.stats().records <= handoffRecords)
        this.beginHandoff();
      const segment = await spool.takeOldest();
      if (!segment) {
        // Synchronous with the check: no append can slip in between and be left behind.
        if (spool.isEmpty()) {
          if (this.mode !== 'direct') logger.info('spool drained; producing directly again');
          this.endHandoff('direct');
          return;
        }
        continue;
      }
      const messages = segment.records.map(decodeSpooledMessage);
      busAnswered = false;
      const refused = await pRetry(() => this.produceOrAbort(messages), {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: this.o.drainBackoff.minMs,
        maxTimeout: this.o.drainBackoff.maxMs,
        signal: this.stopDrain.signal,
        // A record the bus refuses for good would block the drain forever: stop retrying it.
        shouldRetry: ({ error }) => !isRefusedForGood(error),
        onFailedAttempt: ({ error, attemptNumber }) => {
          this.counters.busFailures += 1;
          // The bus failed again: waiting groups must not wait for it.
          if (this.mode === 'handoff') this.endHandoff('spool');
          if (attemptNumber === 1 || attemptNumber % 20 === 0) {
            logger.warn(
              { err: error, attempt: attemptNumber, segment: segment.id },
              'spool drain: bus unavailable',
            );
          }
        },
      }).then(
        () => undefined,
        (err: unknown) => {
          if (isRefusedForGood(err)) return err;
          throw err;
        },
      );
      if (refused) {
        const where = await spool.quarantine(segment.id);
        this.counters.quarantined += messages.length;
        logger.error(
          { err: refused, segment: segment.id, where },
          'spool: the bus refuses a segment; moved aside',
        );
        continue;
      }
      busAnswered = true;
      // Only now, with every record acked by the bus, may the segment go.
      await spool.remove(segment.id);
      this.counters.drained += messages.length;
    }
  }

  private beginHandoff(): void {
    if (!this.handoff) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.handoff = { promise, resolve };
    }
    this.mode = 'handoff';
  }

  private endHandoff(mode: SinkMode): void {
    this.mode = mode;
    const handoff = this.handoff;
    this.handoff = undefined;
    handoff?.resolve();
  }

  private async produceOrAbort(messages: readonly SpooledMessage[]): Promise<void> {
    if (this.stopDrain.signal.aborted) throw new AbortError('sink closing');
    // Clients wait during a handoff: bound it like a direct produce.
    const timeoutMs = this.mode === 'handoff' ? this.o.produceTimeoutMs : this.o.drainTimeoutMs;
    // Closing does not wait for a produce that hangs: the segment simply stays spooled.
    await this.produce(messages, timeoutMs, this.stopDrain.signal);
  }

  /**
   * Stops taking events, waits for those already accepted to be durable, gives
   * the drainer up to `drainGraceMs` to empty the spool, then stops it. What
   * is left in the spool stays on disk for the next start.
   */
  async close(drainGraceMs: number): Promise<void> {
    this.closing = true;
    await this.groups.idle();
    if (this.drainer) {
      const drained = this.drainer;
      await Promise.race([drained, sleep(drainGraceMs)]);
    }
    this.stopDrain.abort();
    await this.drainer;
    if (this.handoff) this.endHandoff('spool');
    await this.o.spool.close();
  }
}

/** Bus messages; the Kafka timestamp is the event's receivedAt (one per request, parsed once). */
function toMessages(events: readonly EnrichedEvent[]): SpooledMessage[] {
  let receivedAt = '';
  let timestamp = 0;
  return events.map((event) => {
    if (event.receivedAt !== receivedAt) {
      receivedAt = event.receivedAt;
      // A relayed receivedAt is schema-checked; should one still not parse, the bus stamps it.
      const parsed = Date.parse(receivedAt);
      timestamp = Number.isNaN(parsed) ? Date.now() : parsed;
    }
    return { key: eventKey(event), value: serialiseEvent(event), timestamp };
  });
}

/** The bus says the records themselves are wrong (too large, invalid): retrying cannot help. */
function isRefusedForGood(err: unknown): err is BusError {
  return err instanceof BusError && (err.code === 'message_too_large' || err.code === 'invalid_request');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
