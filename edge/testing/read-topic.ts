/**
 * @module Reads every message of a topic through the bus port (all
 * partitions, low to high watermark): how tests check what reached the bus.
 */
import type { EventBus } from '../../shared/bus/bus.ts';
import type { EnrichedEvent } from '../../shared/event.ts';

export interface TopicMessage {
  partition: number;
  offset: number;
  key: string | null;
  event: EnrichedEvent;
  timestamp: number;
}

export async function readTopic(bus: EventBus, topic: string): Promise<TopicMessage[]> {
  const out: TopicMessage[] = [];
  const decoder = new TextDecoder();
  for (const w of await bus.watermarks(topic)) {
    for await (const batch of bus.read(topic, w.partition, w.low, w.high)) {
      for (const m of batch) {
        out.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          event: JSON.parse(decoder.decode(m.value)) as EnrichedEvent,
          timestamp: m.timestamp,
        });
      }
    }
  }
  return out;
}
