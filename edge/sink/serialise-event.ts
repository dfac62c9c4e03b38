/**
 * @module An accepted event as the JSON the bus or queue carries. The door
 * (pipeline/json-guard.ts) makes a failure here impossible for input from a
 * request; should one still happen (a value too deep for JSON.stringify's
 * recursion, a bug upstream), it is this request's event that is wrong, not
 * the sink: a 400 for that request, never a 503 that every SDK would retry
 * with the same body forever, and never a failure of the other requests
 * grouped into the same produce.
 */
import { InputError } from '../../shared/errors.ts';
import type { EnrichedEvent } from '../../shared/event.ts';

export function serialiseEvent(event: EnrichedEvent): string {
  try {
    return JSON.stringify(event);
  } catch (err) {
    throw new InputError('An event cannot be serialised as JSON (too deeply nested?).', {
      status: 400,
      code: 'unserialisable_event',
      cause: err,
    });
  }
}
