/**
 * @module The bounds every Kafka adapter checks before a read: a partition that
 * exists and a range [from, to) inside what it still holds.
 */
import { BusError } from '../errors.ts';
import type { PartitionOffsets } from './bus.ts';

export function checkReadRange(
  topic: string,
  partition: number,
  from: number,
  to: number,
  marks: PartitionOffsets | undefined,
): void {
  if (marks === undefined) {
    throw new BusError(`Kafka: topic ${topic} has no partition ${partition}`, { code: 'invalid_request' });
  }
  if (
    !Number.isSafeInteger(from) ||
    !Number.isSafeInteger(to) ||
    from > to ||
    from < marks.low ||
    to > marks.high
  ) {
    throw new BusError(
      `Kafka: cannot read [${from}, ${to}) of ${topic}/${partition}: it holds [${marks.low}, ${marks.high})`,
      { code: 'offset_out_of_range' },
    );
  }
}
