import type { Admin } from 'kafkajs';
import { FerryEvents, type FerryEventMap } from '../../src/core/events';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { logPartitionHealth } from '../../src/observability/partition-log';
import { MemorySink } from '../../src/sink/memory/memory-sink';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import { compileMapping } from '../../src/mapping/define-mapping';
import { changes } from '../../src/mapping/testing';
import { ChangeConsumer } from '../../src/source/kafka/change-consumer';
import { type GrowthAdmin, PartitionGrowthGuard, repartitionedGroup } from '../../src/source/kafka/partition-growth';
import { fakeKafka } from '../support/fake-consumer';
import { waitFor } from '../support/stack';

const TOPIC = 'p.db.things';
const GROUP = 'ferry.things';

/**
 * A topic of `partitions` partitions in the group's eyes: committed offsets, each partition's log
 * (message timestamps by offset), and the admin calls the guard makes.
 */
function cluster(
  logs: Record<number, number[]>,
  committed: Record<number, number> = {},
  repartitioned: Record<number, number> = {},
) {
  const calls = { fetchOffsets: 0, byTimestamp: 0, admins: 0 };
  let failing: Error | undefined;
  const admin: GrowthAdmin = {
    connect: async () => void calls.admins++,
    disconnect: async () => undefined,
    fetchOffsets: (async ({ groupId }: { groupId: string }) => {
      if (failing) throw failing;
      const offsets = groupId === repartitionedGroup(GROUP) ? repartitioned : committed;
      if (offsets === committed) calls.fetchOffsets++;
      return [
        {
          topic: TOPIC,
          partitions: Object.keys(logs).map((p) => ({
            partition: Number(p),
            offset: String(offsets[Number(p)] ?? -1),
            metadata: null,
          })),
        },
      ];
    }) as unknown as Admin['fetchOffsets'],
    fetchTopicOffsets: async () =>
      Object.entries(logs).map(([p, log]) => ({
        partition: Number(p),
        low: '0',
        high: String(log.length),
        offset: String(log.length),
      })),
    fetchTopicOffsetsByTimestamp: async (_topic: string, at?: number) => {
      calls.byTimestamp++;
      return Object.entries(logs).map(([p, log]) => {
        const index = log.findIndex((ts) => ts >= (at ?? 0));
        return { partition: Number(p), offset: String(index === -1 ? log.length : index) };
      });
    },
  };
  return {
    admin,
    calls,
    commit: (partition: number, offset: number) => (committed[partition] = offset),
    fail: (err: Error | undefined) => (failing = err),
  };
}

function guard(admin: GrowthAdmin, retryMs = 20) {
  const events = new FerryEvents();
  const grew: Array<FerryEventMap['source.partitions-grew']> = [];
  events.on('source.partitions-grew', (e) => grew.push(e));
  const g = new PartitionGrowthGuard(
    () => admin,
    { groupId: GROUP, topic: TOPIC, holdPollMs: 10, retryMs },
    createLogger('silent', 2),
    events,
  );
  return { g, grew };
}

const first = (offset: number, timestamp: number) => ({ offset: String(offset), timestamp: String(timestamp) });

describe('source > kafka > partition growth', () => {
  it('lets every partition of a group that has committed nothing go, with one offset read', async () => {
    const c = cluster({ 0: [100, 200], 1: [150], 2: [300] });
    const { g, grew } = guard(c.admin);
    for (const p of [0, 1, 2]) expect(await g.admit(p, first(0, 100))).toEqual({ kind: 'go' });
    expect(await g.admit(2, first(1, 300))).toEqual({ kind: 'go' });
    expect(c.calls.fetchOffsets).toBe(1);
    expect(c.calls.byTimestamp).toBe(0);
    expect(grew).toEqual([]);
  });

  it('never checks a committed partition again, across assignments', async () => {
    const c = cluster({ 0: [1, 2, 3], 1: [1, 2] }, { 0: 1, 1: 2 });
    const { g } = guard(c.admin);
    expect(await g.admit(0, first(1, 2))).toEqual({ kind: 'go' });
    expect(await g.admit(1, first(2, 3))).toEqual({ kind: 'go' });
    g.newAssignment();
    expect(await g.admit(0, first(2, 3))).toEqual({ kind: 'go' });
    expect(await g.admit(1, first(2, 3))).toEqual({ kind: 'go' });
    expect(c.calls.fetchOffsets).toBe(1);
  });

  it('lets an uncommitted partition below a committed one go: it is old, it only had nothing to commit', async () => {
    const c = cluster({ 0: [1, 2], 1: [9_000], 2: [1, 2, 3] }, { 0: 0, 2: 0 });
    const { g, grew } = guard(c.admin);
    expect(await g.admit(1, first(0, 9_000))).toEqual({ kind: 'go' });
    expect(c.calls.byTimestamp).toBe(0);
    expect(grew).toEqual([]);
  });

  it('lets a new partition go when every old partition had processed its messages from before the growth', async () => {
    // Partitions 2 and 3 were added at t=1000; 0 and 1 are committed past everything older.
    const c = cluster({ 0: [10, 20, 1500], 1: [30, 1200], 2: [1100, 1300], 3: [] }, { 0: 2, 1: 1 });
    const { g, grew } = guard(c.admin);
    expect(await g.admit(2, first(0, 1100))).toEqual({ kind: 'go' });
    expect(grew).toEqual([]);
    expect(await g.admit(2, first(2, 1300))).toEqual({ kind: 'go' });
    expect(c.calls.byTimestamp).toBe(1);
  });

  it('reports a growth under lag once, holds the new partitions until the old ones pass it, then lets them go', async () => {
    // Partition 0 has 3 unprocessed messages from before 1000, partition 1 has 1.
    const c = cluster({ 0: [10, 20, 30, 40, 1500], 1: [30, 40, 1200], 2: [1000, 1300], 3: [1100] }, { 0: 1, 1: 1 });
    const { g, grew } = guard(c.admin);
    const held = await g.admit(2, first(0, 1000));
    expect(held.kind).toBe('hold');
    expect(grew).toEqual([
      {
        topic: TOPIC,
        groupId: GROUP,
        firstNew: 2,
        partitions: 4,
        partition: 2,
        grewBy: 1000,
        behind: [
          { partition: 0, messages: 3 },
          { partition: 1, messages: 1 },
        ],
      },
    ]);
    // Another new partition of the same growth is held too, and not reported again.
    const held3 = await g.admit(3, first(0, 1100));
    expect(held3.kind).toBe('hold');
    expect(grew).toHaveLength(1);
    // A batch fetched before the pause took effect is held by the same hold.
    expect(await g.admit(2, first(0, 1000))).toEqual(held);

    let released = false;
    void (held as { released: Promise<void> }).released.then(() => (released = true));
    c.commit(0, 4);
    await new Promise((r) => setTimeout(r, 60));
    expect(released).toBe(false); // partition 1 has not passed it yet
    c.commit(1, 2);
    await (held as { released: Promise<void> }).released;
    await (held3 as { released: Promise<void> }).released;
    expect(await g.admit(2, first(0, 1000))).toEqual({ kind: 'go' });
    expect(await g.admit(3, first(0, 1100))).toEqual({ kind: 'go' });
    expect(grew).toHaveLength(1);
    g.close();
  });

  it('lets a partition that ferry topic repartition added after the group drained go, unchecked', async () => {
    // The connector's first messages after it resumed are not yet processed in partition 0.
    const c = cluster({ 0: [10, 20, 1010, 1020], 1: [1005] }, { 0: 2 }, { 1: 0 });
    const { g, grew } = guard(c.admin);
    expect(await g.admit(1, first(0, 1005))).toEqual({ kind: 'go' });
    expect(c.calls.byTimestamp).toBe(0);
    expect(grew).toEqual([]);
  });

  it('reads a new partition from its first message when the consumer started past it', async () => {
    const c = cluster({ 0: [10, 20], 1: [1000, 1100, 1200] }, { 0: 2 });
    const { g } = guard(c.admin);
    expect(await g.admit(1, first(3, 1200))).toEqual({ kind: 'seek', offset: '0' });
    // Compaction may have removed the records before offset 3: it is still the first, so no second seek.
    expect(await g.admit(1, first(3, 1200))).not.toEqual({ kind: 'seek', offset: '0' });
  });

  it('holds a partition it could not check, and checks it again', async () => {
    const c = cluster({ 0: [10, 20], 1: [1000] }, { 0: 2 });
    c.fail(new Error('coordinator not available'));
    const { g } = guard(c.admin);
    const held = await g.admit(1, first(0, 1000));
    expect(held.kind).toBe('hold');
    await (held as { released: Promise<void> }).released;
    c.fail(undefined);
    expect(await g.admit(1, first(0, 1000))).toEqual({ kind: 'go' });
  });
});

describe('source > kafka > change consumer > partition growth', () => {
  const mapping = compileMapping({
    name: 'things',
    source: { table: 'db.things' },
    target: { table: 'things', partitionKey: 'pk' },
    key: (row: { id: number }) => ({ pk: `T#${row.id}` }),
    item: (row: { id: number }) => ({ id: row.id }),
  });
  const message = (offset: number, id: number, timestamp: number) => ({
    key: Buffer.from('k'),
    value: Buffer.from(JSON.stringify({ id })),
    offset: String(offset),
    timestamp: String(timestamp),
  });

  it('pauses a held new partition without processing it, logs and counts the growth, and resumes it once safe', async () => {
    const committed: Record<number, string> = { 0: '1' };
    const fake = fakeKafka(
      TOPIC,
      [
        { partition: 0, low: '0', high: '3' },
        { partition: 1, low: '0', high: '1' },
      ],
      {
        fetchOffsets: (async () => [
          {
            topic: TOPIC,
            partitions: [0, 1].map((p) => ({ partition: p, offset: committed[p] ?? '-1', metadata: null })),
          },
        ]) as unknown as Admin['fetchOffsets'],
        fetchTopicOffsetsByTimestamp: async () => [
          { partition: 0, offset: '2' },
          { partition: 1, offset: '0' },
        ],
      },
    );
    const events = new FerryEvents();
    const errors: string[] = [];
    const logger = createLogger('silent', 2);
    logger.error = ((_fields: unknown, msg: string) => void errors.push(msg)) as typeof logger.error;
    const stopLogging = logPartitionHealth(events, logger);
    const metrics = createMetrics(events, 'db.things');
    const memory = new MemorySink();
    const processor = new BatchProcessor({
      mapping,
      itemRules: { numberOverflow: 'error' },
      decoder: {
        decode: async (value) => ({
          kind: 'change',
          event: changes.insert('db.things', JSON.parse(String(value)) as Record<string, unknown>),
        }),
        keyShape: async () => 'id',
      },
      sink: memory,
      deadLetters: { publish: async () => undefined },
      events,
    });
    const consumer = new ChangeConsumer(
      fake.kafka,
      processor,
      {
        groupId: GROUP,
        topic: TOPIC,
        fromBeginning: true,
        partitionsConsumedConcurrently: 4,
        maxChunk: 100,
        sessionTimeoutMs: 30_000,
        holdPollMs: 10,
      },
      logger,
      events,
    );
    await consumer.start();
    const kafka = fake.consumer();
    kafka.join([0, 1]);

    const held = await kafka.deliver(1, [message(0, 7, 1000)]);
    expect(held.resolved).toEqual([]);
    expect(memory.items('things')).toHaveLength(0);
    expect(kafka.paused.has(1)).toBe(true);
    expect(errors.join('\n')).toContain(`README runbook "Growing a topic's partitions"`);
    expect(errors.join('\n')).toContain('grew from 1 to 2 while partition(s) 0 (1) still had 1 unprocessed messages');
    expect(errors.join('\n')).toContain('2 is a multiple of 1');
    expect(await metrics.registry.getSingleMetricAsString('ferry_unsafe_partition_growths_total')).toContain(
      `ferry_unsafe_partition_growths_total{topic="${TOPIC}"} 1`,
    );

    // The old partition is processed and committed past the growth: the new one is resumed.
    expect((await kafka.deliver(0, [message(1, 1, 10), message(2, 2, 1500)])).resolved).toEqual(['2']);
    committed[0] = '3';
    await waitFor('the held partition to resume', async () => !kafka.paused.has(1), 5000, 10);
    expect((await kafka.deliver(1, [message(0, 7, 1000)])).resolved).toEqual(['0']);
    expect(memory.items('things')).toHaveLength(3);

    await consumer.stop();
    metrics.close();
    stopLogging();
  });
});
