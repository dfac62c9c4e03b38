/**
 * @module One bus message to a warehouse row, or the reason it cannot be one
 * (a dead letter's reason). Whatever the bytes hold, it returns: bytes that
 * are not JSON, not an object, miss a messageId, projectId or type, or make
 * mapping throw (a structure too deep to serialise, say) give a reason,
 * never an exception, so one strange message never fails a load. The same
 * function runs on the loader's thread (with a transform) and in the parse
 * workers (parse-worker.ts), so both paths agree message for message.
 */
import type { EnrichedEvent } from '../../shared/event.ts';
import { mayHoldLoneSurrogates, repairLoneSurrogates } from '../../shared/json-unicode.ts';
import { type EventRow, toEventRow } from '../steps/map-event.ts';

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

/** The row of a message, or why it is a dead letter. */
export function rowOfMessage(value: Uint8Array, busTimestamp: number): EventRow | string {
  const event = parseEvent(value);
  if (typeof event === 'string') return event;
  try {
    return toEventRow(event, busTimestamp);
  } catch (err) {
    return cannotMap(err);
  }
}

export function cannotMap(err: unknown): string {
  return `cannot map: ${err instanceof Error ? err.message : String(err)}`;
}
