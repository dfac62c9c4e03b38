/**
 * @module The consumer group's partition assigner for scaled-out loaders (a
 * kafkajs PartitionAssigner, the client's plugin API): partition number p of
 * every subscribed topic goes to the same member, and the partition numbers
 * are cut into contiguous ranges over the members sorted by id, as Kafka's
 * RangeAssignor does for topics of equal partition counts. So `eu.events`
 * p3 and `us.events` p3, where the edge's key sends one event failed over to
 * both regions, meet in one process's dedup.
 */
import type { PartitionAssigner } from 'kafkajs';
import kafkajs from 'kafkajs';

const { AssignerProtocol } = kafkajs;

const SLOT_ASSIGNER_NAME = 'BeaconSlots';

/** member id → topic → partitions; every member is present, possibly with nothing. */
export function assignSlots(
  memberIds: readonly string[],
  partitions: ReadonlyMap<string, readonly number[]>,
): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const slots = [...new Set([...partitions.values()].flat())].sort((a, b) => a - b);
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  const each = Math.floor(slots.length / Math.max(1, members.length));
  const extra = slots.length % Math.max(1, members.length);
  let next = 0;
  members.forEach((member, i) => {
    const mine = slots.slice(next, next + each + (i < extra ? 1 : 0));
    next += mine.length;
    const assignment = out.get(member) as Record<string, number[]>;
    for (const [topic, ps] of [...partitions].sort(([a], [b]) => a.localeCompare(b))) {
      const owned = ps.filter((p) => mine.includes(p)).sort((a, b) => a - b);
      if (owned.length > 0) assignment[topic] = owned;
    }
  });
  return out;
}

export const slotAssigner: PartitionAssigner = ({ cluster }) => ({
  name: SLOT_ASSIGNER_NAME,
  version: 1,
  async assign({ members, topics }) {
    const partitions = new Map(
      topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId)]),
    );
    const plan = assignSlots(
      members.map((m) => m.memberId),
      partitions,
    );
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: SLOT_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
