/**
 * @module Step "consume": reads each partition's planned range from the bus
 * and feeds every event through map → dedup → write. A message that is not
 * an event (bad JSON, no messageId) is kept aside as a dead letter, counted,
 * and never stops the load. The parse, map and NDJSON line run in the parse
 * workers (parse/parse-pool.ts) unless a transform (a function, which cannot
 * cross to a thread) asks for this thread. `until` stops a partition at the first event of
 * a later hour: that offset is where the commit stops, so the rest waits for
 * the next run.
 */
import type { ConsumedMessage } from '../../shared/bus/bus.ts';
import { type Hash64, messageIdHash } from '../dedup/message-hash.ts';
import { type Hour, hourOfMicros } from '../layout.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import { cannotMap, rowOfMessage } from '../parse/parse-message.ts';
import type { ParsePool } from '../parse/parse-pool.ts';
import type { ParsedBatch } from '../parse/parsed-batch.ts';
import type { Deduplicator } from './dedup.ts';
import type { EventRow } from './map-event.ts';
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
  /** Parse workers (parse/): without them, or with a transform, messages are parsed on this thread. */
  parser?: ParsePool;
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

/** Batches of one partition at the parse workers while the loader's thread takes the oldest. */
const PARSE_DEPTH = 3;

const decoder = new TextDecoder();

/** What one message becomes: a dead letter's reason, null (the transform dropped it), or a row's line. */
type Outcome = string | null | { hour: Hour; hash: Hash64; line: Uint8Array | string };

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

/** A message's outcome on the loader's own thread: the path a transform (a function) needs. */
function outcomeHere(deps: LoaderDeps, message: ConsumedMessage): Outcome {
  const mapped = rowOfMessage(message.value, message.timestamp);
  if (typeof mapped === 'string') return mapped;
  let row: EventRow | null;
  try {
    row = deps.transform ? deps.transform(mapped) : mapped;
  } catch (err) {
    return cannotMap(err);
  }
  if (row === null) return null;
  return {
    hour: hourOfMicros(row.received_at),
    hash: messageIdHash(row.message_id),
    line: `${JSON.stringify(row)}\n`,
  };
}

/** Message i's outcome from a parse worker's batch. */
function outcomeParsed(parsed: ParsedBatch, i: number): Outcome {
  const hour = parsed.hours[i] as number;
  if (Number.isNaN(hour)) return parsed.reasons.get(i) ?? 'not parsed';
  const start = i === 0 ? 0 : (parsed.lineEnds[i - 1] as number);
  return {
    hour,
    hash: { hi: parsed.hashHi[i] as number, lo: parsed.hashLo[i] as number },
    line: parsed.lines.subarray(start, parsed.lineEnds[i]),
  };
}

/**
 * One partition's range through map → dedup → write; returns the offset to
 * commit. Without a transform the messages are parsed by the pool's workers,
 * a few batches ahead; everything that needs one order (until, dedup,
 * buckets, dead letters, the archive) stays here, in bus order.
 */
async function consumePartition(
  deps: LoaderDeps,
  options: ConsumeOptions,
  range: PartitionRange,
  result: ConsumeResult,
  report: () => void,
): Promise<number> {
  const { dedup, buckets, until, onlyHours, parser } = options;
  let end = range.to;
  let prepared: Hour | undefined;
  /** Takes one message's outcome; false when `until` stops the partition at it. */
  const take = async (message: ConsumedMessage, outcome: Outcome): Promise<boolean> => {
    result.consumed++;
    if (until !== undefined && outcome !== null && typeof outcome === 'object' && outcome.hour > until) {
      result.consumed--;
      end = message.offset;
      return false;
    }
    // Archived as read, whatever it holds; the message `until` stops at is the next run's.
    await options.archive?.add(message);
    if (typeof outcome === 'string') {
      result.malformed++;
      if (result.deadLetters.length < DEAD_LETTER_CAP) {
        result.deadLetters.push({
          partition: message.partition,
          offset: message.offset,
          reason: outcome,
          value: decoder.decode(message.value).slice(0, 64 * 1024),
        });
      }
      return true;
    }
    if (outcome === null) {
      result.skipped++;
      return true;
    }
    const { hour, hash } = outcome;
    if (onlyHours && !onlyHours.has(hour)) {
      result.skipped++;
      return true;
    }
    if (hour !== prepared) {
      await dedup.prepare(hour);
      prepared = hour;
    }
    if (dedup.isDuplicate(hash)) return true;
    await buckets.appendLine(hour, range.partition, message.offset, outcome.line, hash);
    result.hours.add(hour);
    result.written++;
    return true;
  };
  const takeBatch = async (messages: readonly ConsumedMessage[], parsed: ParsedBatch | undefined) => {
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as ConsumedMessage;
      const outcome =
        options.refuse?.(message) ?? (parsed ? outcomeParsed(parsed, i) : outcomeHere(deps, message));
      if (!(await take(message, outcome))) return false;
    }
    report();
    return true;
  };
  if (range.from < range.to) {
    const usePool = parser !== undefined && deps.transform === undefined;
    const ahead: { messages: ConsumedMessage[]; parsed: Promise<ParsedBatch> }[] = [];
    let going = true;
    for await (const batch of deps.bus.read(deps.settings.topic, range.partition, range.from, range.to)) {
      if (!usePool) {
        going = await takeBatch(batch, undefined);
      } else {
        const parsed = parser.parse(batch);
        // Handled when its turn comes; a thread that dies rejects every batch ahead at once.
        parsed.catch(() => {});
        ahead.push({ messages: batch, parsed });
        if (ahead.length >= PARSE_DEPTH) {
          const next = ahead.shift() as (typeof ahead)[number];
          going = await takeBatch(next.messages, await next.parsed);
        }
      }
      if (!going) break;
    }
    while (going && ahead.length > 0) {
      const next = ahead.shift() as (typeof ahead)[number];
      going = await takeBatch(next.messages, await next.parsed);
    }
    // Batches parsed past where `until` stopped are dropped untaken.
  }
  await buckets.closePartition(range.partition);
  return end;
}
