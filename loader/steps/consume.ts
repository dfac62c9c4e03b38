/**
 * @module Step "consume": reads each partition's planned range from the bus
 * and feeds every event through map → dedup → write. A message that is not
 * an event (bad JSON, no messageId) is kept aside as a dead letter, counted,
 * and never stops the load. `until` stops a partition at the first event of
 * a later hour: that offset is where the commit stops, so the rest waits for
 * the next run.
 */
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import type { EnrichedEvent } from '../../shared/event.ts';
import { mayHoldLoneSurrogates, repairLoneSurrogates } from '../../shared/json-unicode.ts';
import { messageIdHash } from '../dedup/message-hash.ts';
import { type Hour, hourOfMicros } from '../layout.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import type { Deduplicator } from './dedup.ts';
import { type EventRow, toEventRow } from './map-event.ts';
import type { PartitionRange } from './plan.ts';
import type { HourBuckets } from './write.ts';

export interface ConsumeOptions {
  ranges: PartitionRange[];
  dedup: Deduplicator;
  buckets: HourBuckets;
  /** Stop each partition at the first event after this hour. */
  until?: Hour;
  /** Only events of these hours are written (replay); the others are skipped, not dropped as duplicates. */
  onlyHours?: ReadonlySet<Hour>;
  /** Keeps every consumed message as it was on the bus, dead letters too (archive/archive-writer.ts). */
  archive?: { add(message: ConsumedMessage): Promise<void> };
  /** A reason to dead-letter a message before it is parsed (an import's line with no time of its own). */
  refuse?: (message: ConsumedMessage) => string | undefined;
}

export interface DeadLetter {
  partition: number;
  offset: number;
  reason: string;
  value: string;
}

export interface ConsumeResult {
  /** Per partition, the offset to commit: the end of the range, or where `until` stopped it. */
  ends: { partition: number; offset: number }[];
  consumed: number;
  written: number;
  malformed: number;
  skipped: number;
  deadLetters: DeadLetter[];
  hours: Set<Hour>;
}

/** Dead letters kept in memory per run; beyond that they are only counted. */
const DEAD_LETTER_CAP = 10_000;

const decoder = new TextDecoder();

function parseEvent(value: Uint8Array): EnrichedEvent | string {
  let parsed: unknown;
  const text = decoder.decode(value);
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (mayHoldLoneSurrogates(text)) parsed = repairLoneSurrogates(parsed);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not a JSON object';
  const e = parsed as Partial<EnrichedEvent>;
  if (typeof e.messageId !== 'string' || e.messageId === '') return 'no messageId';
  if (typeof e.projectId !== 'string' || e.projectId === '') return 'no projectId';
  if (typeof e.type !== 'string') return 'no type';
  return e as EnrichedEvent;
}

export async function consumeRanges(deps: LoaderDeps, options: ConsumeOptions): Promise<ConsumeResult> {
  const { progress } = deps;
  const total = options.ranges.reduce((n, r) => n + (r.to - r.from), 0);
  const result: ConsumeResult = {
    ends: [],
    consumed: 0,
    written: 0,
    malformed: 0,
    skipped: 0,
    deadLetters: [],
    hours: new Set(),
  };
  // Partitions are read side by side, so one partition's network wait overlaps another's parsing.
  // Buckets are per (hour, partition), so the files do not depend on the interleaving.
  const queue = [...options.ranges];
  const worker = async () => {
    for (let range = queue.shift(); range; range = queue.shift()) {
      const end = await consumePartition(deps, options, range, result, () =>
        progress?.consumed(result.consumed, total),
      );
      result.ends.push({ partition: range.partition, offset: end });
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(deps.settings.readConcurrency, queue.length)) }, worker),
  );
  result.ends.sort((a, b) => a.partition - b.partition);
  deps.logger.debug({ consumed: result.consumed, malformed: result.malformed }, 'consumed');
  return result;
}

/**
 * A message as a warehouse row, or why it cannot be one (a dead letter's
 * reason), or null when the transform drops it. Whatever the bytes hold, it
 * returns: a message that breaks mapping (a structure too deep to serialise,
 * say) becomes a dead letter, never a failed load.
 */
function rowOf(deps: LoaderDeps, value: Uint8Array, busTimestamp: number): EventRow | string | null {
  const event = parseEvent(value);
  if (typeof event === 'string') return event;
  try {
    const mapped = toEventRow(event, busTimestamp);
    return deps.transform ? deps.transform(mapped) : mapped;
  } catch (err) {
    return `cannot map: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** One partition's range through map → dedup → write; returns the offset to commit. */
async function consumePartition(
  deps: LoaderDeps,
  options: ConsumeOptions,
  range: PartitionRange,
  result: ConsumeResult,
  report: () => void,
): Promise<number> {
  const { dedup, buckets, until, onlyHours } = options;
  let end = range.to;
  let prepared: Hour | undefined;
  if (range.from < range.to) {
    outer: for await (const batch of deps.bus.read(
      deps.settings.topic,
      range.partition,
      range.from,
      range.to,
    )) {
      for (const message of batch) {
        result.consumed++;
        const row = options.refuse?.(message) ?? rowOf(deps, message.value, message.timestamp);
        if (
          until !== undefined &&
          row !== null &&
          typeof row === 'object' &&
          hourOfMicros(row.received_at) > until
        ) {
          result.consumed--;
          end = message.offset;
          break outer;
        }
        // Archived as read, whatever it holds; the message `until` stops at is the next run's.
        await options.archive?.add(message);
        if (typeof row === 'string') {
          result.malformed++;
          if (result.deadLetters.length < DEAD_LETTER_CAP) {
            result.deadLetters.push({
              partition: message.partition,
              offset: message.offset,
              reason: row,
              value: decoder.decode(message.value).slice(0, 64 * 1024),
            });
          }
          continue;
        }
        if (row === null) {
          result.skipped++;
          continue;
        }
        const hour = hourOfMicros(row.received_at);
        if (onlyHours && !onlyHours.has(hour)) {
          result.skipped++;
          continue;
        }
        if (hour !== prepared) {
          await dedup.prepare(hour);
          prepared = hour;
        }
        const hash = messageIdHash(row.message_id);
        if (dedup.isDuplicate(hash)) continue;
        await buckets.append(hour, range.partition, message.offset, row, hash);
        result.hours.add(hour);
        result.written++;
      }
      report();
    }
  }
  await buckets.closePartition(range.partition);
  return end;
}
