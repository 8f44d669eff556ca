import type { Admin } from 'kafkajs';
import { ConfigError, RefusedError } from '../../core/errors';

export interface PartitionOffsets {
  partition: number;
  /** Next offset the group will read; null when the group has committed nothing there. */
  committed: string | null;
  /** Offset the next appended message will get. */
  end: string;
  /** First offset still in the log. */
  start: string;
  lag: number;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
}

/** Where to move a group: the start, the end, the first offset at or after a time, or explicit offsets. */
export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'time'; at: Date }
  | { kind: 'offsets'; offsets: Map<number, string> };

export async function groupMembers(admin: Pick<Admin, 'describeGroups'>, groupId: string): Promise<GroupMember[]> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).map(({ memberId, clientId, clientHost }) => ({
    memberId,
    clientId,
    host: clientHost,
  }));
}

/** Per partition: committed offset, log start and end, and lag. */
export async function groupOffsets(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>,
  groupId: string,
  topic: string,
): Promise<PartitionOffsets[]> {
  const [ends, committedByTopic] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committed = new Map((committedByTopic[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
  return ends
    .map(({ partition, high, low }) => {
      const c = committed.get(partition);
      const next = c === undefined || c === '-1' ? null : c;
      return { partition, committed: next, end: high, start: low, lag: Number(high) - Number(next ?? low) };
    })
    .sort((a, b) => a.partition - b.partition);
}

export interface ResetPlan {
  partition: number;
  from: string | null;
  to: string;
}

/**
 * Moves a group's committed offsets. Refuses while the group has members, because a running
 * consumer would overwrite the new offsets with its own on its next commit.
 */
export async function resetGroupOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
  target: ResetTarget,
  options: { dryRun: boolean; beforeApply?: (plan: ResetPlan[]) => Promise<void> },
): Promise<ResetPlan[]> {
  const members = await groupMembers(admin, groupId);
  if (members.length > 0) {
    throw new RefusedError(
      `group ${groupId} has ${members.length} active member(s): ${members.map((m) => `${m.clientId}@${m.host}`).join(', ')}; stop its workers first`,
    );
  }
  const current = await groupOffsets(admin, groupId, topic);
  const targets = await resolveTarget(admin, topic, current, target);
  const plan = current.map((p) => ({
    partition: p.partition,
    from: p.committed,
    to: targets.get(p.partition) ?? p.committed ?? p.start,
  }));
  if (!options.dryRun) {
    await options.beforeApply?.(plan);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: plan.map(({ partition, to }) => ({ partition, offset: to })),
    });
  }
  return plan;
}

async function resolveTarget(
  admin: Admin,
  topic: string,
  current: PartitionOffsets[],
  target: ResetTarget,
): Promise<Map<number, string>> {
  switch (target.kind) {
    case 'earliest':
      return new Map(current.map((p) => [p.partition, p.start]));
    case 'latest':
      return new Map(current.map((p) => [p.partition, p.end]));
    case 'time': {
      const found = await admin.fetchTopicOffsetsByTimestamp(topic, target.at.getTime());
      // -1: no message at or after that time, so the group starts at the end.
      return new Map(
        found.map(({ partition, offset }) => [
          partition,
          offset === '-1' ? (current.find((p) => p.partition === partition)?.end ?? offset) : offset,
        ]),
      );
    }
    case 'offsets': {
      for (const [partition, offset] of target.offsets) {
        const p = current.find((c) => c.partition === partition);
        if (!p) throw new ConfigError(`topic ${topic} has no partition ${partition} (it has 0..${current.length - 1})`);
        if (BigInt(offset) < BigInt(p.start) || BigInt(offset) > BigInt(p.end)) {
          throw new ConfigError(`offset ${offset} is outside partition ${partition}'s range ${p.start}..${p.end}`);
        }
      }
      return target.offsets;
    }
  }
}
