import { ConfigError, RefusedError } from '../../src/core/errors';
import type { ConnectApi, ConnectorState, ConnectorStatus } from '../../src/source/connect/connect-client';
import { type RepartitionAdmin, repartitionTopic } from '../../src/source/kafka/repartition';

const TOPIC = 'p.db.things';
const GROUP = 'ferry.things';

/** Kafka Connect with connectors writing topics, whose state follows stop, pause and resume. */
function fakeConnect(writers: Record<string, string[]>, initial: ConnectorState = 'RUNNING') {
  const calls: string[] = [];
  const states = new Map(Object.keys(writers).map((name) => [name, initial]));
  const connect: ConnectApi = {
    url: 'http://connect:8083',
    connectors: async () => Object.keys(writers),
    topics: async (name) => writers[name] ?? [],
    status: async (name): Promise<ConnectorStatus> => {
      const state = states.get(name) as ConnectorState;
      return { name, connector: { state }, tasks: state === 'STOPPED' ? [] : [{ id: 0, state }] };
    },
    stop: async (name) => void (calls.push(`stop ${name}`), states.set(name, 'STOPPED')),
    pause: async (name) => void (calls.push(`pause ${name}`), states.set(name, 'PAUSED')),
    resume: async (name) => void (calls.push(`resume ${name}`), states.set(name, 'RUNNING')),
    apply: async (name) => void calls.push(`apply ${name}`),
  };
  return { connect, calls, states };
}

/**
 * A topic of `count` partitions with `lag` unprocessed messages on partition 0, which the group
 * processes `perPoll` at a time (0: never); createPartitions may fail.
 */
function fakeAdmin(options: { count: number; lag: number; perPoll?: number; growError?: Error }) {
  let count = options.count;
  let lag = options.lag;
  const calls: string[] = [];
  const admin = {
    fetchTopicMetadata: async () => ({
      topics: [{ name: TOPIC, partitions: Array.from({ length: count }, (_, i) => ({ partitionId: i })) }],
    }),
    fetchTopicOffsets: async () =>
      Array.from({ length: count }, (_, partition) => ({ partition, low: '0', high: '100', offset: '100' })),
    fetchOffsets: async () => {
      const offsets = [
        {
          topic: TOPIC,
          partitions: Array.from({ length: count }, (_, partition) => ({
            partition,
            offset: String(partition === 0 ? 100 - lag : 100),
            metadata: null,
          })),
        },
      ];
      lag = Math.max(0, lag - (options.perPoll ?? 0));
      return offsets;
    },
    describeGroups: async () => ({ groups: [{ members: [] }] }),
    createPartitions: async ({ topicPartitions }: { topicPartitions: Array<{ count: number }> }) => {
      calls.push(`grow ${topicPartitions[0]?.count}`);
      if (options.growError) throw options.growError;
      count = topicPartitions[0]?.count ?? count;
      return true;
    },
    setOffsets: async ({ groupId, partitions }: { groupId: string; partitions: Array<{ partition: number }> }) =>
      void calls.push(`record ${groupId} ${partitions.map((p) => p.partition).join(',')}`),
  } as unknown as RepartitionAdmin;
  return { admin, calls, count: () => count };
}

function run(
  admin: RepartitionAdmin,
  connect: ConnectApi,
  options: { partitions?: number; dryRun?: boolean; drainTimeoutMs?: number; connector?: string } = {},
) {
  let clock = 0;
  const audits: Array<Record<string, unknown>> = [];
  const progress: string[] = [];
  const result = repartitionTopic(
    {
      topic: TOPIC,
      groupId: GROUP,
      partitions: options.partitions ?? 24,
      connector: options.connector,
      dryRun: options.dryRun ?? false,
      drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
    },
    {
      admin,
      connect,
      audit: async (detail) => void audits.push(detail),
      progress: (line) => void progress.push(line),
      sleep: async (ms) => void (clock += ms),
      now: () => clock,
    },
  );
  return { result, audits, progress };
}

describe('source > kafka > repartition', () => {
  it('refuses a partition count that is not larger, before touching the connector', async () => {
    const { connect, calls } = fakeConnect({ debezium: [TOPIC] });
    const { admin } = fakeAdmin({ count: 12, lag: 0 });
    await expect(run(admin, connect, { partitions: 12 }).result).rejects.toThrow(ConfigError);
    await expect(run(admin, connect, { partitions: 6 }).result).rejects.toThrow(/already has 12 partitions/);
    expect(calls).toEqual([]);
  });

  it('refuses when no connector, or more than one, writes the topic; --connector names one', async () => {
    const { admin } = fakeAdmin({ count: 12, lag: 0 });
    const none = fakeConnect({ other: ['p.db.else'] });
    await expect(run(admin, none.connect).result).rejects.toThrow(RefusedError);
    const two = fakeConnect({ a: [TOPIC], b: [TOPIC, 'x'] });
    await expect(run(admin, two.connect).result).rejects.toThrow(/2 connectors write p.db.things: a, b/);
    expect(two.calls).toEqual([]);
    const { result } = run(admin, two.connect, { connector: 'b', dryRun: true });
    expect((await result).connector).toBe('b');
    await expect(run(admin, two.connect, { connector: 'c' }).result).rejects.toThrow(/no connector "c"/);
  });

  it('refuses a connector that is neither running, paused nor stopped', async () => {
    const { connect, calls } = fakeConnect({ debezium: [TOPIC] }, 'FAILED');
    const { admin } = fakeAdmin({ count: 12, lag: 0 });
    await expect(run(admin, connect).result).rejects.toThrow(/connector debezium is FAILED/);
    expect(calls).toEqual([]);
  });

  it('plans without changing anything on a dry run: connector, counts, lag per partition', async () => {
    const { connect, calls } = fakeConnect({ debezium: [TOPIC] });
    const { admin, calls: kafkaCalls } = fakeAdmin({ count: 12, lag: 7 });
    const { result, audits } = run(admin, connect, { dryRun: true });
    const plan = await result;
    expect(plan).toMatchObject({ dryRun: true, connector: 'debezium', from: 12, to: 24, totalLag: 7 });
    expect(plan.partitions[0]).toMatchObject({ partition: 0, committed: '93', end: '100', lag: 7 });
    expect(calls).toEqual([]);
    expect(kafkaCalls).toEqual([]);
    expect(audits).toEqual([]);
  });

  it('stops the connector, drains the group, grows the topic, resumes the connector, and audits it', async () => {
    const { connect, calls, states } = fakeConnect({ debezium: [TOPIC] });
    const kafka = fakeAdmin({ count: 12, lag: 30, perPoll: 10 });
    const { result, audits, progress } = run(kafka.admin, connect);
    const done = await result;
    expect(done).toMatchObject({ dryRun: false, from: 12, to: 24 });
    expect(kafka.count()).toBe(24);
    expect(calls).toEqual(['stop debezium', 'resume debezium']);
    expect(states.get('debezium')).toBe('RUNNING');
    expect(kafka.calls).toEqual([
      'grow 24',
      `record ${GROUP}.repartitioned ${[...Array(12).keys()].map((i) => i + 12).join(',')}`,
    ]);
    expect(audits.map((a) => a.outcome)).toEqual(['growing', 'grown']);
    expect(audits[1]).toMatchObject({
      connector: 'debezium',
      from: 12,
      to: 24,
      connectorRestored: 'RUNNING (task 0 RUNNING)',
    });
    expect(progress.join('\n')).toContain(
      'waiting for group ferry.things to drain: lag 20 on 1 partition (0: 20) (0 s of 60 s)',
    );
  });

  it('refuses when the lag does not drain in time: no growth, the connector resumed, exit as refused', async () => {
    const { connect, calls, states } = fakeConnect({ debezium: [TOPIC] });
    const kafka = fakeAdmin({ count: 12, lag: 5 });
    const { result, audits } = run(kafka.admin, connect, { drainTimeoutMs: 10_000 });
    await expect(result).rejects.toThrow(RefusedError);
    await expect(result).rejects.toThrow(/did not drain within 10 s: lag 5 on 1 partition .* no member/);
    expect(kafka.count()).toBe(12);
    expect(kafka.calls).toEqual([]);
    expect(calls).toEqual(['stop debezium', 'resume debezium']);
    expect(states.get('debezium')).toBe('RUNNING');
    expect(audits.map((a) => a.outcome)).toEqual(['refused']);
  });

  it('puts the connector back when the growth fails, and says so in the audit', async () => {
    const { connect, calls } = fakeConnect({ debezium: [TOPIC] });
    const kafka = fakeAdmin({ count: 12, lag: 0, growError: new Error('not authorized') });
    const { result, audits } = run(kafka.admin, connect);
    await expect(result).rejects.toThrow('not authorized');
    expect(calls).toEqual(['stop debezium', 'resume debezium']);
    expect(audits.map((a) => a.outcome)).toEqual(['growing', 'failed']);
    expect(audits[1]?.error).toContain('not authorized');
  });

  it('leaves a paused connector paused, and a stopped one stopped', async () => {
    const paused = fakeConnect({ debezium: [TOPIC] }, 'PAUSED');
    await run(fakeAdmin({ count: 12, lag: 0 }).admin, paused.connect).result;
    expect(paused.calls).toEqual(['stop debezium', 'pause debezium']);
    expect(paused.states.get('debezium')).toBe('PAUSED');
    const stopped = fakeConnect({ debezium: [TOPIC] }, 'STOPPED');
    await run(fakeAdmin({ count: 12, lag: 0 }).admin, stopped.connect).result;
    expect(stopped.calls).toEqual([]);
  });
});
