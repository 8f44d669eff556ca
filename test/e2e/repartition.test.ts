import type { KafkaMessage } from 'kafkajs';
import { auditTopic } from '../../src/source/kafka/audit';
import { repartitionedGroup } from '../../src/source/kafka/partition-growth';
import { readRange } from '../../src/source/kafka/read-range';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { kafka, stack, waitFor, type RunningWorker } from '../support/stack';
import {
  ACCOUNTS_SCHEMA,
  ACCOUNTS_SELECT,
  AccountsWorkload,
  accountsMapping,
  decodeAccount,
  startAccounts,
} from '../support/accounts-workload';

const RUNBOOK = `README runbook "Growing a topic's partitions"`;
/** The runbook's name as it appears in the JSON log output. */
const RUNBOOK_NAME = "Growing a topic's partitions";

async function withAdmin<T>(fn: (admin: ReturnType<ReturnType<typeof kafka>['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const partitionCount = (topic: string) =>
  withAdmin(async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length);

/** Committed offset per partition ('-1' when none). */
const committed = (groupId: string, topic: string) =>
  withAdmin(async (admin) => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? []);

const ends = (topic: string) => withAdmin((admin) => admin.fetchTopicOffsets(topic));

async function connectorState(name: string): Promise<string> {
  const status = (await (await fetch(`${stack.connectUrl}/connectors/${name}/status`)).json()) as {
    connector: { state: string };
    tasks: Array<{ state: string }>;
  };
  return [status.connector.state, ...status.tasks.map((t) => t.state)].join(' ');
}

async function auditEntries(prefix: string): Promise<Array<{ action: string; detail: { outcome: string } }>> {
  const entries: KafkaMessage[] = [];
  await readRange(kafka(), {
    topic: auditTopic(prefix),
    onBatch: async (_p, messages) => void entries.push(...messages),
  });
  return entries.map((m) => JSON.parse(String(m.value)) as { action: string; detail: { outcome: string } });
}

/** The JSON log lines of a worker. */
const logLines = (worker: RunningWorker) =>
  worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number; partition?: number; time: number });

/**
 * A topic's partitions grown with `ferry topic repartition` under load ends exact; a run whose
 * group cannot drain changes nothing; a growth by hand under lag is reported, and held.
 */
describe('e2e > topic repartition', () => {
  const scenario = new Scenario();
  let workload: AccountsWorkload;
  let mapping: string;
  let group: string;

  beforeAll(async () => {
    workload = await startAccounts(scenario, 200);
    mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    group = `ferry.accounts-${scenario.id}`;
    scenario.configureCli();
    process.env.FERRY_CONNECT_URL = stack.connectUrl;
  }, 180_000);

  afterAll(() => scenario.tearDown());
  afterEach(() => jest.restoreAllMocks());

  it('refuses when the group cannot drain: exit 3, the partitions and the running connector as they were', async () => {
    // No worker runs: the 200 snapshot rows are lag nobody processes.
    const started = Date.now();
    const { code, out, err } = await runFerry(
      'topic',
      'repartition',
      '--mapping',
      mapping,
      '--partitions',
      '16',
      '--drain-timeout',
      '3',
    );
    console.log(`repartition refusal took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect({ code, out, err }).toMatchObject({ code: 3 });
    expect(err).toMatch(/did not drain within 3 s: lag 200 on \d+ partitions .* no member/);
    expect(err).toContain(`stopping connector ${scenario.connector?.name}`);
    expect(await partitionCount(scenario.topic())).toBe(12);
    expect(await connectorState(scenario.connector?.name as string)).toBe('RUNNING RUNNING');
    const entries = await auditEntries(scenario.connector?.prefix as string);
    expect(entries.map((e) => [e.action, e.detail.outcome])).toEqual([['topic.repartition', 'refused']]);
  }, 180_000);

  it('grows the topic under load, and ends exact: converged, verify clean, the new partitions consumed', async () => {
    const worker = await scenario.startWorker(mapping);
    let loading = true;
    // About 100 changes a second: inserts, updates, deletes, key changes, transactions.
    const load = (async () => {
      while (loading) {
        await workload.transaction(3);
        for (let i = 0; i < 5; i++) await workload.randomChange();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 3000));

    const dry = await runFerry('topic', 'repartition', '--mapping', mapping, '--partitions', '16', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`${scenario.topic()}: 12 -> 16 partitions; connector ${scenario.connector?.name}`);
    expect(dry.out).toContain('dry run: nothing changed');
    expect(await partitionCount(scenario.topic())).toBe(12);

    const changesBefore = workload.changes;
    const started = Date.now();
    const run = await runFerry(
      'topic',
      'repartition',
      '--mapping',
      mapping,
      '--partitions',
      '16',
      '--drain-timeout',
      '120',
    );
    const tookMs = Date.now() - started;
    expect(run).toMatchObject({ code: 0 });
    expect(run.out).toContain(`${scenario.topic()} now has 16 partitions`);
    expect(await partitionCount(scenario.topic())).toBe(16);
    expect(await connectorState(scenario.connector?.name as string)).toBe('RUNNING RUNNING');

    // The resumed connector writes the new partitions at once, and the group consumes them.
    const resumedAt = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    loading = false;
    await load;
    await waitFor(
      'the group to commit an offset in a new partition',
      async () => (await committed(group, scenario.topic())).some((p) => p.partition >= 12 && Number(p.offset) > 0),
      120_000,
      500,
    );
    const pickedUpMs = Date.now() - resumedAt;
    const rejoinedAt = logLines(worker).find((l) => l.msg.includes('Topic has been updated'))?.time;
    const newMessages = (await ends(scenario.topic()))
      .filter((p) => p.partition >= 12)
      .reduce((sum, p) => sum + Number(p.high), 0);
    expect(newMessages).toBeGreaterThan(0);
    const marked = await committed(repartitionedGroup(group), scenario.topic());
    expect(
      marked
        .filter((p) => p.offset === '0')
        .map((p) => p.partition)
        .sort((a, b) => a - b),
    ).toEqual([12, 13, 14, 15]);

    const items = await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount, 240_000);
    const verify = await runFerry('verify', '--mapping', mapping);
    expect(verify).toMatchObject({ code: 0 });
    expect(worker.output()).not.toContain(RUNBOOK_NAME);
    const entries = await auditEntries(scenario.connector?.prefix as string);
    expect(entries.map((e) => e.detail.outcome)).toEqual(['refused', 'growing', 'grown']);
    console.log(
      `repartition under load: 12 -> 16 partitions in ${(tookMs / 1000).toFixed(1)} s (${run.out.match(/drained in [\d.]+ s; connector \S+ put back after [\d.]+ s/)?.[0]}); ${workload.changes - changesBefore} changes made meanwhile and after; the worker rejoined with the new partitions ${rejoinedAt ? ((rejoinedAt - resumedAt) / 1000).toFixed(1) : '?'} s and first committed one ${(pickedUpMs / 1000).toFixed(1)} s after the command returned; ${newMessages} messages in the new partitions; ${items} items exact`,
    );
  }, 400_000);
});

describe('e2e > partitions grown by hand', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('is reported when the group had lag from before the growth, and the new partitions are held until it is processed', async () => {
    await scenario.setUp(ACCOUNTS_SCHEMA);
    const workload = new AccountsWorkload(scenario.db);
    await workload.insert(200);
    // The connector's producer reads the partition count every second instead of every 5 minutes,
    // so that it writes the new partitions soon after the growth, as it eventually would.
    await scenario.startConnector('json', 'accounts', { 'producer.override.metadata.max.age.ms': '1000' });
    const mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    const group = `ferry.accounts-${scenario.id}`;
    const topic = scenario.topic();
    const first = await scenario.startWorker(mapping);
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
    expect(await first.stop('SIGTERM')).toBe(0);

    // Lag from before the growth: every row updated 30 times, on all 12 partitions.
    const lagging = 200 * 30;
    for (let round = 0; round < 30; round++)
      await scenario.db.query('UPDATE accounts SET balance = balance + 1, updated_at = NOW(6)');
    await waitFor(
      'the updates in Kafka',
      async () => (await ends(topic)).reduce((sum, p) => sum + Number(p.high), 0) >= 200 + lagging,
      60_000,
    );
    await withAdmin((admin) => admin.createPartitions({ topicPartitions: [{ topic, count: 24 }] }));
    await new Promise((r) => setTimeout(r, 3000));
    for (let round = 0; round < 5; round++)
      await scenario.db.query('UPDATE accounts SET tier = ELT(1 + (id + ?) % 3, "free", "pro", "team")', [round]);
    await waitFor(
      'changes in the new partitions',
      async () => (await ends(topic)).filter((p) => p.partition >= 12 && Number(p.high) > 0).length >= 6,
      60_000,
    );

    // Many partitions at once: the new partitions' first batches are checked while the old ones still lag.
    const second = await scenario.startWorker(mapping, {
      FERRY_LOG_LEVEL: 'debug',
      FERRY_PIPELINE_PARTITIONS_CONSUMED_CONCURRENTLY: '24',
      FERRY_PIPELINE_MAX_CHUNK: '50',
    });
    await waitFor('the error naming the runbook', async () => second.output().includes(RUNBOOK_NAME), 60_000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}\n${second
            .output()
            .split('\n')
            .filter((l) => !l.includes('chunk received'))
            .join('\n')
            .slice(-6000)}`,
        );
      },
    );
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);

    const lines = logLines(second);
    const error = lines.find((l) => l.msg.includes(RUNBOOK)) as unknown as {
      level: number;
      behind: Array<{ partition: number; messages: number }>;
      newPartitionsFrom: number;
      msg: string;
    };
    expect(error.level).toBe(50);
    expect(error.newPartitionsFrom).toBe(12);
    expect(error.msg).toContain('grew from 12 to 24');
    expect(error.msg).toContain('24 is a multiple of 12');
    expect(error.behind.length).toBeGreaterThan(0);
    expect(error.behind.every((p) => p.partition < 12 && p.messages > 0)).toBe(true);
    expect(lines.filter((l) => l.msg.includes(RUNBOOK))).toHaveLength(1);

    // Every new partition that was held was released before its first change was processed.
    const held = lines.filter((l) => l.msg.startsWith('partition held'));
    expect(held.length).toBeGreaterThan(0);
    for (const { partition } of held) {
      const released = lines.findIndex((l) => l.msg.startsWith('partition released') && l.partition === partition);
      const processed = lines.findIndex((l) => l.msg === 'chunk received' && l.partition === partition);
      expect(released).toBeGreaterThan(-1);
      expect(processed).toBeGreaterThan(released);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${second.httpPort}/metrics`)).text();
    expect(metrics).toContain(`ferry_unsafe_partition_growths_total{topic="${topic}"} 1`);
    expect(
      (await committed(group, topic)).filter((p) => p.partition >= 12 && p.offset !== '-1').length,
    ).toBeGreaterThan(0);
    console.log(
      `growth by hand: ${error.behind.reduce((s, p) => s + p.messages, 0)} messages unprocessed on ${error.behind.length} old partitions at the check; ${held.length} new partitions held, then released`,
    );
  }, 400_000);
});
