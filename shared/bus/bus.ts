/**
 * @module The event bus port: Kafka in production, a local durable log in
 * one-machine mode. The edge produces; the loader reads closed offset ranges
 * and commits. Offsets are plain numbers (2^53 is far beyond any partition).
 */

export interface BusMessage {
  /** Partitioning key; messages with one key keep their order. */
  key: string | null;
  value: string | Uint8Array;
  /** Producer time in ms since the epoch; the bus sets it when absent. */
  timestamp?: number;
}

export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: string | null;
  value: Uint8Array;
  timestamp: number;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still held (retention). */
  low: number;
  /** Offset the next message will get (the high watermark). */
  high: number;
}

export interface PartitionOffset {
  partition: number;
  offset: number;
}

export interface EventBus {
  /** Creates the topic when missing; a no-op when it exists. */
  ensureTopic(topic: string, partitions: number): Promise<void>;
  /**
   * Resolves only once every message is durable: acks=all on Kafka, the fsync
   * policy on the local log. Rejects with a BusError when it is not.
   */
  produce(topic: string, messages: BusMessage[]): Promise<void>;
  watermarks(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset whose timestamp is >= `timestampMs` (the high watermark if none). */
  offsetsForTime(topic: string, timestampMs: number): Promise<PartitionOffset[]>;
  /**
   * Messages of one partition in [from, to), in order, in batches (never
   * empty). Needs low <= from <= to <= high (take `to` from watermarks());
   * otherwise it throws a BusError with code 'offset_out_of_range'.
   */
  read(topic: string, partition: number, from: number, to: number): AsyncIterable<ConsumedMessage[]>;
  /** Committed offsets of a consumer group (the next offset to read); partitions never committed are absent. */
  committed(group: string, topic: string): Promise<PartitionOffset[]>;
  commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}
