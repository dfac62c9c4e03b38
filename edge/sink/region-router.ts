/**
 * @module Region failover for the Node edge's produces. The edge is configured with an
 * ordered list of regions, each a Kafka cluster; the first is its own. Each produce goes to
 * the current target; when that cluster is unreachable (the produce fails or takes longer
 * than `attemptTimeoutMs`), the same messages go to the next region in order, and that
 * region becomes the target (a failover). While the target is not the edge's own region, a
 * probe asks every region before it in the list for its watermarks every
 * `probeIntervalMs`; the first that answers becomes the target again. A return that fails at
 * once (the cluster answers metadata but not yet produces, as after a restart) doubles the
 * interval, up to 32 times, so a region coming back slowly is not hammered with flips; a
 * produce that succeeds there resets it.
 *
 * Nothing acknowledged is lost in a switch: `produce` resolves only once some region
 * acknowledged every message (acks=all), and when every region fails it rejects, so the
 * sink (kafka-or-spool-sink.ts) writes the events to its disk spool and its drainer
 * produces them through this router later. An attempt that timed out may still land in
 * its region after the next region took the same messages: a duplicate across regions,
 * which the loader drops by messageId (docs/regions.md). Order per key holds within a region, not across a switch.
 */
import type { BusMessage, EventBus } from '../../shared/bus/bus.ts';
import { BusError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { within } from './within.ts';

export interface RegionBus {
  name: string;
  bus: Pick<EventBus, 'produce' | 'ensureTopic' | 'watermarks' | 'close'>;
}

export interface RegionRouterOptions {
  /** In order of preference; the first is the edge's own region. */
  regions: readonly RegionBus[];
  /** The topic the probe reads watermarks of. */
  topic: string;
  attemptTimeoutMs: number;
  probeIntervalMs: number;
  logger: Logger;
}

export interface RegionStats {
  name: string;
  /** Messages this region acknowledged. */
  produced: number;
  /** Produce attempts that failed or timed out in this region. */
  errors: number;
  /** Switches away from this region to another. */
  failoversFrom: number;
  target: boolean;
}

export class RegionRouter {
  private readonly o: RegionRouterOptions;
  private active = 0;
  private readonly stats_: RegionStats[];
  private readonly ensured = new Set<string>();
  private probing: Promise<void> | undefined;
  private readonly stopProbe = new AbortController();
  /** Multiplier of probeIntervalMs: doubled by each failed return, reset by a produce that succeeds. */
  private backoff = 1;
  /** Set when the probe switched back: the next produce there decides whether the return held. */
  private returning = false;

  constructor(options: RegionRouterOptions) {
    if (options.regions.length === 0) throw new Error('RegionRouter needs at least one region');
    this.o = options;
    this.stats_ = options.regions.map((r, i) => ({
      name: r.name,
      produced: 0,
      errors: 0,
      failoversFrom: 0,
      target: i === 0,
    }));
  }

  /** The region produces go to now. */
  get target(): string {
    return this.o.regions[this.active]?.name ?? '';
  }

  stats(): RegionStats[] {
    return this.stats_.map((s, i) => ({ ...s, target: i === this.active }));
  }

  /** Creates the topic in every region that does not have it yet; throws if any region failed. */
  async ensureTopic(topic: string, partitions: number): Promise<void> {
    const results = await Promise.allSettled(
      this.o.regions
        .filter((r) => !this.ensured.has(r.name))
        .map(async (r) => {
          await r.bus.ensureTopic(topic, partitions);
          this.ensured.add(r.name);
        }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Resolves once one region acknowledged every message; rejects when none did. */
  async produce(topic: string, messages: BusMessage[]): Promise<void> {
    const n = this.o.regions.length;
    let lastError: unknown;
    const start = this.active;
    for (let step = 0; step < n; step++) {
      const index = (start + step) % n;
      const region = this.o.regions[index];
      const stats = this.stats_[index];
      if (!region || !stats) continue;
      try {
        await within(region.bus.produce(topic, messages), this.o.attemptTimeoutMs, () =>
          silent(region.name, this.o.attemptTimeoutMs),
        );
        stats.produced += messages.length;
        // Switch only when this call failed over. A produce that began on the old target and
        // finished after the probe moved the target back must not undo the return.
        if (step > 0 && index !== this.active) this.switchTo(index, { failedOver: lastError });
        else if (index === this.active && this.returning) {
          this.returning = false;
          this.backoff = 1;
        }
        return;
      } catch (err) {
        // The records themselves are refused: another region would refuse them too.
        if (isRefusedForGood(err)) throw err;
        stats.errors += 1;
        lastError = err;
      }
    }
    throw lastError;
  }

  /** A failover (the target failed; `failedOver` is why), or the probe's return to an earlier region. */
  private switchTo(index: number, how: { failedOver: unknown } | { returned: true }): void {
    const from = this.o.regions[this.active]?.name;
    const to = this.o.regions[index]?.name;
    if ('failedOver' in how) {
      const fromStats = this.stats_[this.active];
      if (fromStats) fromStats.failoversFrom += 1;
      if (this.returning) this.backoff = Math.min(32, this.backoff * 2);
      this.returning = false;
      this.o.logger.warn({ err: how.failedOver, from, to }, 'region unreachable; failing over');
    } else {
      this.returning = true;
      this.o.logger.info({ from, to }, 'region back; producing there again');
    }
    this.active = index;
    if (this.active > 0) this.ensureProbe();
  }

  private ensureProbe(): void {
    if (this.probing || this.stopProbe.signal.aborted) return;
    this.probing = this.probe().finally(() => {
      this.probing = undefined;
    });
  }

  /** While not on the own region: every interval, the first earlier region that answers wins back. */
  private async probe(): Promise<void> {
    while (this.active > 0 && !this.stopProbe.signal.aborted) {
      await sleep(this.o.probeIntervalMs * this.backoff, this.stopProbe.signal);
      for (let index = 0; index < this.active; index++) {
        const region = this.o.regions[index];
        if (!region || this.stopProbe.signal.aborted) break;
        const answered = await within(region.bus.watermarks(this.o.topic), this.o.attemptTimeoutMs, () =>
          silent(region.name, this.o.attemptTimeoutMs),
        ).then(
          () => true,
          () => false,
        );
        if (answered) {
          this.switchTo(index, { returned: true });
          break;
        }
      }
    }
  }

  /** Stops the probe and closes every region's client. */
  async close(): Promise<void> {
    this.stopProbe.abort();
    await this.probing;
    await Promise.allSettled(this.o.regions.map((r) => r.bus.close()));
  }
}

/** The bus says the records themselves are wrong (too large, invalid): no region will take them. */
function isRefusedForGood(err: unknown): boolean {
  return err instanceof BusError && (err.code === 'message_too_large' || err.code === 'invalid_request');
}

function silent(region: string, ms: number): Error {
  return new Error(`region ${region} did not answer within ${ms} ms`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
