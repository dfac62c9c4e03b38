import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './key-partitioner.ts';

describe('partitionForKey', () => {
  it('matches the values of Kafka’s Java murmur2', () => {
    // Reference values from Kafka's UtilsTest (testMurmur2).
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of cases) {
      expect(murmur2(new TextEncoder().encode(input)), input).toBe(expected);
    }
  });

  it('puts every key where kafkajs’ default partitioner puts it', () => {
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 7, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
        offlineReplicas: [],
      }));
      for (let i = 0; i < 500; i++) {
        const key = `project-${i % 7}:user-${i * 7919}-ü`;
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
        expect(partitionForKey(key, partitions)).toBe(expected);
      }
    }
  });
});
