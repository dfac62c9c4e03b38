/**
 * @module The bounds every bus adapter checks before a read: a partition that
 * exists and a range [from, to) inside what it still holds. `source` opens the
 * message where it helps to know which bus answered ("Kafka: …").
 */
import { BusError } from '../errors.ts';
import type { PartitionOffsets } from './bus.ts';

export function checkReadRange<M extends Pick<PartitionOffsets, 'low' | 'high'>>(
  topic: string,
  partition: number,
  from: number,
  to: number,
  marks: M | undefined,
  source = 'Kafka: ',
): asserts marks is M {
  if (marks === undefined) {
    throw new BusError(`${source}topic ${topic} has no partition ${partition}`, { code: 'invalid_request' });
  }
  if (
    !Number.isSafeInteger(from) ||
    !Number.isSafeInteger(to) ||
    from > to ||
    from < marks.low ||
    to > marks.high
  ) {
    throw new BusError(
      `${source}cannot read [${from}, ${to}) of ${topic}/${partition}: it holds [${marks.low}, ${marks.high})`,
      { code: 'offset_out_of_range' },
    );
  }
}
