/**
 * @module Commits offsets for a consumer group that has no live member (the
 * loader's: it reads through throwaway groups and commits after a load).
 *
 * Why not admin.setOffsets: kafkajs implements it as a member that pauses
 * everything and waits a whole fetch interval (5 s, not configurable there)
 * before stopping. Here a member joins with an assigner that gives it no
 * partition (so it fetches nothing), commits as that member, and leaves:
 * one join and one OffsetCommit (tens of ms, plus the broker's
 * group.initial.rebalance.delay.ms for a group that was empty).
 *
 * A group with live members is refused, as setOffsets refuses it: joining
 * would start a rebalance under a running consumer.
 */

import type { Admin, Assigner, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import { BusError } from '../../errors.ts';
import type { PartitionOffset } from '../bus.ts';

const { AssignerProtocol } = kafkajs;

const ASSIGNER_NAME = 'B2HCommitOnly';

/** Assigns nothing: the member exists only to commit. */
const commitOnlyAssigner = (): Assigner => ({
  name: ASSIGNER_NAME,
  version: 1,
  async assign({ members }) {
    return members.map((member) => ({
      memberId: member.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});

export async function commitGroupOffsets(
  kafka: Kafka,
  admin: Admin,
  options: { retries: number; sessionTimeoutMs: number },
  group: string,
  topic: string,
  offsets: PartitionOffset[],
): Promise<void> {
  const {
    groups: [description],
  } = await admin.describeGroups([group]);
  if (description !== undefined && !['Empty', 'Dead'].includes(description.state)) {
    throw new BusError(
      `Kafka: group ${group} has running instances (state ${description.state}); ` +
        'offsets are committed only for a group whose consumers have stopped',
      { code: 'group_busy', retriable: true },
    );
  }
  const consumer = kafka.consumer({
    groupId: group,
    partitionAssigners: [commitOnlyAssigner],
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: options.retries, restartOnFailure: async () => false },
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    // run() returns once the member has joined and synced: it can commit.
    await consumer.run({ autoCommit: false, eachBatch: async () => {} });
    await consumer.commitOffsets(
      offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset) })),
    );
  } finally {
    await consumer.disconnect();
  }
}
