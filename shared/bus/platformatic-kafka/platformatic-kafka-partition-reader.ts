/**
 * @module Reads one closed offset range [from, to) of one Kafka partition
 * with @platformatic/kafka's low-level Fetch (`Consumer.fetch`): no consumer
 * group at all, so nothing to join (kafkajs needs a throwaway group for
 * this), nothing left behind, and the caller's group is never touched.
 *
 * Each request asks the partition's leader for at most `maxBytes` from the
 * next wanted offset, and the reader yields that batch before asking for the
 * next, so at most one fetch is in memory. A fetch answers whole record
 * batches, so records before `from` (the start of a compressed batch) and
 * from `to` on are dropped; control records (transaction markers) are
 * skipped but still move the position. Reads are READ_UNCOMMITTED so a range
 * whose `to` came from the high watermark always ends.
 *
 * Each read has its own short-lived Consumer: the client keeps one
 * incremental fetch session per broker and consumer, and two reads sharing
 * one would each make the broker forget the other's partition.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { BusError } from '../../errors.ts';
import type { ConsumedMessage } from '../bus.ts';
import { toBusErrorFromPlatformatic } from './platformatic-kafka-error.ts';

export interface PlatformaticReadOptions {
  brokers: readonly string[];
  clientId: string;
  groupPrefix: string;
  maxBytes: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
}

/** Control batches carry transaction markers, not messages (attribute bit 5). */
const IS_CONTROL = 0b10_0000;
/** Empty answers in a row before giving up: the range is below the high watermark, so data must come. */
const MAX_EMPTY_FETCHES = 20;

export async function* readPlatformaticPartition(
  options: PlatformaticReadOptions,
  topic: string,
  partition: number,
  from: number,
  to: number,
): AsyncGenerator<ConsumedMessage[]> {
  const consumer = new Consumer({
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    // Never joined: required by the constructor, used for nothing.
    groupId: `${options.groupPrefix}-read-${randomUUID()}`,
    connectTimeout: options.connectTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    retries: options.retries,
    retryDelay: options.retryDelayMs,
    autocreateTopics: false,
  });
  let next = from;
  let empty = 0;
  try {
    while (next < to) {
      let response: Awaited<ReturnType<typeof consumer.fetch>>;
      let topicId: string;
      try {
        const metadata = await consumer.metadata({ topics: [topic] });
        const info = metadata.topics.get(topic);
        const leader = info?.partitions[partition]?.leader;
        if (info === undefined || leader === undefined || leader < 0) {
          throw new BusError(`Kafka: ${topic}/${partition} has no leader`, {
            code: 'kafka_unavailable',
            retriable: true,
          });
        }
        topicId = info.id;
        response = await consumer.fetch({
          node: leader,
          topics: [
            {
              topicId,
              partitions: [
                {
                  partition,
                  fetchOffset: BigInt(next),
                  partitionMaxBytes: options.maxBytes,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
          minBytes: 1,
          maxBytes: options.maxBytes,
          maxWaitTime: 250,
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
        });
      } catch (error) {
        throw toBusErrorFromPlatformatic(
          `reading ${topic}/${partition} [${from}, ${to})`,
          error,
          options.brokers,
        );
      }
      const messages: ConsumedMessage[] = [];
      let position = next;
      for (const topicResponse of response.responses) {
        if (topicResponse.topicId !== topicId) continue;
        for (const p of topicResponse.partitions) {
          if (p.partitionIndex !== partition) continue;
          for (const batch of p.records ?? []) {
            const batchEnd = Number(batch.firstOffset) + batch.lastOffsetDelta + 1;
            if ((batch.attributes & IS_CONTROL) === 0) {
              for (const record of batch.records) {
                const offset = Number(batch.firstOffset) + record.offsetDelta;
                if (offset < next || offset >= to) continue;
                messages.push({
                  partition,
                  offset,
                  key: record.key === null ? null : record.key.toString('utf8'),
                  value: record.value ?? new Uint8Array(0),
                  timestamp: Number(batch.firstTimestamp + record.timestampDelta),
                });
              }
            }
            position = Math.max(position, Math.min(batchEnd, to));
          }
        }
      }
      if (position === next) {
        if (++empty >= MAX_EMPTY_FETCHES) {
          throw new BusError(
            `Kafka: reading ${topic}/${partition} [${from}, ${to}) got no data at offset ${next} ` +
              `after ${MAX_EMPTY_FETCHES} fetches from ${options.brokers.join(',')}`,
            { code: 'kafka_unavailable', retriable: true },
          );
        }
        continue;
      }
      empty = 0;
      next = position;
      if (messages.length > 0) yield messages;
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
}
