import type { Admin } from 'kafkajs';
import { describe } from '../../core/errors';
import type { FerryEvents } from '../../core/events';
import type { Logger } from '../../observability/logger';

export type GrowthAdmin = Pick<
  Admin,
  'connect' | 'disconnect' | 'fetchOffsets' | 'fetchTopicOffsets' | 'fetchTopicOffsetsByTimestamp'
>;

/** What to do with a partition's batch. */
export type Admission =
  /** Process it. */
  | { kind: 'go' }
  /** Do not process it now: pause the partition until `released` settles, then it is fetched and admitted again. */
  | { kind: 'hold'; released: Promise<void> }
  /** The consumer started past the partition's first message: read it from `offset`. */
  | { kind: 'seek'; offset: string };

export interface PartitionGrowthOptions {
  groupId: string;
  topic: string;
  /** How often a held partition asks whether the old partitions have passed the growth. */
  holdPollMs?: number;
  /** How long a partition waits before it is checked again when the check itself failed. */
  retryMs?: number;
}

const GO: Admission = { kind: 'go' };

/**
 * Where `ferry topic repartition` records that it added partitions after `groupId` had processed
 * everything: the group commits offset 0 there for each partition it added. The group never has
 * members; its offsets are a record, read by the guard below.
 */
export const repartitionedGroup = (groupId: string) => `${groupId}.repartitioned`;

interface Hold {
  released: Promise<void>;
  end: () => void;
}

/**
 * Makes a topic's partition growth safe, or loud. One row's changes share a partition only while
 * the partition count stays the same: the producer picks hash(key) % count. When the count
 * grows, a row's next changes go to another partition, while its older ones may still wait,
 * unprocessed, in the old one.
 *
 * A partition is new when the group has never committed it while it has committed others, and
 * its number is above every committed one (Kafka adds partitions at the end; an old partition
 * that never had a message to commit sits below a committed one, unless it is among the last).
 * Its first batch is checked once, when it is first fetched: the growth happened at most at the
 * timestamp T of its first message, so every old partition must have processed its messages from
 * before T (committed offset at or past fetchTopicOffsetsByTimestamp(T)). If one has not, the
 * growth is reported (`source.partitions-grew`: an error log with the runbook, a metric) and the
 * new partition is held, paused, until every old partition has passed T; then it flows.
 *
 * Why this cannot deadlock: only a partition the group never committed is ever held, and it waits
 * only for partitions the group has committed, which are never held. Holding pauses the partition
 * rather than waiting inside eachBatch, so a worker with many held partitions still processes its
 * old ones with every concurrent slot; and whichever member owns the old partitions, their commits
 * are read from the group, not from this member.
 *
 * A partition `ferry topic repartition` added (see repartitionedGroup) needs no check: the group
 * had processed everything before the connector wrote again. Without that record, the check would
 * count the connector's first messages after it resumed, in old partitions, as unprocessed
 * messages from before the growth.
 *
 * What holding cannot mend: unless the new count is a multiple of the old one, some rows also
 * move from one old partition to another, and their changes in the two may already have been
 * applied in the wrong order. The report says so.
 *
 * Cost: one offset fetch per assignment for partitions not yet admitted, and Kafka admin calls
 * only for a new partition's first batch; a partition once admitted is never checked again.
 */
export class PartitionGrowthGuard {
  /** Partitions admitted for good by this process: committed ones, and new ones found safe. */
  private readonly admitted = new Set<number>();
  private readonly holds = new Map<number, Hold>();
  /** Partitions sent back to their log start: once each, since on a compacted topic the first record may sit past it. */
  private readonly sought = new Set<number>();
  /** Growths already reported, by their first new partition: one error per growth and process. */
  private readonly reported = new Set<number>();
  /** The group's committed offsets, read once per assignment for the partitions not yet admitted. */
  private committed?: Promise<Map<number, bigint>>;
  private closed = false;

  constructor(
    private readonly newAdmin: () => GrowthAdmin,
    private readonly options: PartitionGrowthOptions,
    private readonly logger: Logger,
    private readonly events?: FerryEvents,
  ) {}

  /** A new assignment: the group's committed offsets are read again for partitions not yet admitted. */
  newAssignment(): void {
    this.committed = undefined;
  }

  /** Ends every hold (the consumer is stopping). */
  close(): void {
    this.closed = true;
    for (const hold of this.holds.values()) hold.end();
    this.holds.clear();
  }

  /** Decides whether a batch of `partition`, starting with `first`, may be processed now. */
  async admit(partition: number, first: { offset: string; timestamp: string }): Promise<Admission> {
    if (this.admitted.has(partition)) return GO;
    const held = this.holds.get(partition);
    if (held) return { kind: 'hold', released: held.released };
    try {
      return await this.check(partition, first);
    } catch (err) {
      // Unchecked is not safe: wait and check again, as any retriable failure would.
      this.logger.warn(
        { topic: this.options.topic, partition, error: describe(err) },
        'could not check whether the topic grew; the partition waits and is checked again',
      );
      return { kind: 'hold', released: this.delay(this.options.retryMs ?? 5000) };
    }
  }

  private async check(partition: number, first: { offset: string; timestamp: string }): Promise<Admission> {
    const { topic } = this.options;
    const committed = await (this.committed ??= this.withAdmin((admin) => this.readCommitted(admin)).catch((err) => {
      this.committed = undefined;
      throw err;
    }));
    const highestCommitted = Math.max(-1, ...committed.keys());
    if (committed.has(partition) || committed.size === 0 || partition < highestCommitted) {
      this.admitted.add(partition);
      return GO;
    }
    const firstNew = highestCommitted + 1;
    return this.withAdmin(async (admin) => {
      const ends = await admin.fetchTopicOffsets(topic);
      const start = ends.find((p) => p.partition === partition)?.low;
      if (start !== undefined && BigInt(first.offset) > BigInt(start) && !this.sought.has(partition)) {
        this.sought.add(partition);
        // A group that starts at the latest offset would skip the changes written to the new
        // partition before this member was given it: they are changes nobody has applied.
        this.logger.warn(
          { topic, partition, from: start, fetched: first.offset },
          'a partition new to the group is read from its first message, not from the latest',
        );
        return { kind: 'seek', offset: start };
      }
      if ((await this.readCommitted(admin, repartitionedGroup(this.options.groupId))).has(partition)) {
        this.admitted.add(partition);
        this.logger.info({ topic, partition }, 'a partition added by ferry topic repartition: no check needed');
        return GO;
      }
      const grewBy = Number(first.timestamp);
      const targets = new Map(
        (await admin.fetchTopicOffsetsByTimestamp(topic, grewBy))
          .filter((p) => committed.has(p.partition))
          .map((p) => [p.partition, BigInt(p.offset)]),
      );
      const behind = this.behind(await this.readCommitted(admin), targets);
      if (behind.length === 0) {
        this.admitted.add(partition);
        return GO;
      }
      if (!this.reported.has(firstNew)) {
        this.reported.add(firstNew);
        this.events?.emit('source.partitions-grew', {
          topic,
          groupId: this.options.groupId,
          firstNew,
          partitions: ends.length,
          partition,
          grewBy,
          behind,
        });
      }
      return { kind: 'hold', released: this.hold(partition, grewBy, targets) };
    });
  }

  /** Holds `partition` until every old partition has committed past its target offset. */
  private hold(partition: number, grewBy: number, targets: Map<number, bigint>): Promise<void> {
    const { topic } = this.options;
    const pollMs = this.options.holdPollMs ?? 2000;
    let end!: () => void;
    const released = new Promise<void>((resolve) => (end = resolve));
    this.holds.set(partition, { released, end });
    const since = Date.now();
    this.logger.warn(
      { topic, partition, grewBy: new Date(grewBy).toISOString() },
      'partition held: it waits until every older partition has processed its messages from before the growth',
    );
    const admin = this.newAdmin();
    void (async () => {
      try {
        await admin.connect();
        while (!this.closed && this.holds.get(partition)?.released === released) {
          await new Promise((r) => setTimeout(r, pollMs).unref());
          let behind: Array<{ partition: number; messages: number }>;
          try {
            behind = this.behind(await this.readCommitted(admin), targets);
          } catch (err) {
            this.logger.warn(
              { topic, partition, error: describe(err) },
              'held partition: offsets not read; trying again',
            );
            continue;
          }
          if (behind.length === 0) {
            this.admitted.add(partition);
            this.logger.info(
              { topic, partition, heldSeconds: Math.round((Date.now() - since) / 1000) },
              'partition released: every older partition has passed the growth',
            );
            break;
          }
        }
      } catch (err) {
        this.logger.warn(
          { topic, partition, error: describe(err) },
          'held partition: admin client failed; checked again',
        );
      } finally {
        if (this.holds.get(partition)?.released === released) this.holds.delete(partition);
        end();
        await admin.disconnect().catch(() => undefined);
      }
    })();
    return released;
  }

  /** Old partitions whose committed offset is below their target, with how many messages remain. */
  private behind(committed: Map<number, bigint>, targets: Map<number, bigint>) {
    return [...targets]
      .map(([partition, target]) => ({ partition, messages: Number(target - (committed.get(partition) ?? 0n)) }))
      .filter((p) => p.messages > 0)
      .sort((a, b) => a.partition - b.partition);
  }

  private async readCommitted(admin: GrowthAdmin, groupId = this.options.groupId): Promise<Map<number, bigint>> {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [this.options.topic] });
    return new Map(
      (entry?.partitions ?? [])
        .filter((p) => p.offset !== '-1' && p.offset !== '')
        .map((p) => [p.partition, BigInt(p.offset)]),
    );
  }

  /** A fresh admin client per check: its metadata knows the partitions the topic has now. */
  private async withAdmin<T>(fn: (admin: GrowthAdmin) => Promise<T>): Promise<T> {
    const admin = this.newAdmin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }
}
