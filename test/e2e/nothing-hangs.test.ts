import { type Consumer, type PartitionAssigner, PartitionAssigners } from 'kafkajs';
import { deadLetterTopic } from '../../src/pipeline/dead-letters';
import { redriveGroup } from '../../src/pipeline/redrive';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { dropTable, kafka, scanAll, waitFor } from '../support/stack';

/** kafkajs's round robin under another name: a group holding it refuses ferry's members (INCONSISTENT_GROUP_PROTOCOL). */
const foreignAssigner: PartitionAssigner = (config) => ({
  ...PartitionAssigners.roundRobin(config),
  name: 'NotFerrysAssigner',
});

/** Joins `groupId` with the foreign protocol and stays, so that any ferry consumer joining it crashes for good. */
async function occupyGroup(groupId: string, topic: string): Promise<Consumer> {
  const consumer = kafka().consumer({ groupId, partitionAssigners: [foreignAssigner], sessionTimeout: 30_000 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
  await waitFor(`a foreign member in ${groupId}`, async () => joined, 60_000);
  return consumer;
}

async function groupState(groupId: string): Promise<string | undefined> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0]?.state;
  } finally {
    await admin.disconnect();
  }
}

/** A consumer kafkajs gives up on ends the work loudly instead of leaving it waiting forever. */
describe('e2e > nothing hangs', () => {
  const scenario = new Scenario();
  let mapping: string;
  let name: string;
  const occupied: Consumer[] = [];
  // Leaving a group that is rebalancing waits for the rebalance: more than jest's 5 s by default.
  afterAll(async () => {
    await Promise.all(occupied.map((c) => c.disconnect()));
    await scenario.tearDown();
  }, 60_000);
  // Even a test that timed out must not leave its setting to the next.
  afterEach(() => delete process.env.FERRY_KAFKA_SESSION_TIMEOUT_MS);

  beforeAll(async () => {
    await scenario.setUp(
      `CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, 'one'), (2, 'poison')`,
    );
    await scenario.startConnector('json', 'things');
    name = `things-${scenario.id}`;
    mapping = scenario.writeMapping(
      'things.ts',
      `name: '${name}',
  key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }),
  item: (row) => { if (row.name === 'poison') throw new Error('poison row'); return { name: row.name }; },`,
      'things',
    );
    scenario.configureCli();
  }, 180_000);

  it('a worker whose consumer crashes and will not be restarted stops and exits 1', async () => {
    const group = `ferry.${name}`;
    const worker = await scenario.startWorker(mapping);
    await waitFor('the row and the dead letter', async () => {
      const admin = kafka().admin();
      await admin.connect();
      try {
        const letters = await admin.fetchTopicOffsets(deadLetterTopic(scenario.connector?.prefix ?? '', name));
        return (await scanAll(scenario.table)).length === 1 && letters.some((p) => Number(p.high) > 0);
      } finally {
        await admin.disconnect();
      }
    });
    // Frozen past its session timeout, the worker is evicted; a foreign member takes the group; on waking
    // the worker must rejoin, and the group refuses it: a crash kafkajs does not restart from.
    worker.process.kill('SIGSTOP');
    await waitFor('the frozen worker to be evicted', async () => (await groupState(group)) === 'Empty', 90_000, 1000);
    occupied.push(await occupyGroup(group, scenario.topic('things')));
    worker.process.kill('SIGCONT');

    const code = await worker.exited;
    expect(code).toBe(1);
    expect(worker.output()).toMatch(/consumer failed and kafkajs will not restart it/);
    expect(worker.output()).toMatch(/crashed and will not restart: .*protocols are incompatible/);
  }, 240_000);

  it('dlq redrive fails naming the topic when its consumer crashes, instead of waiting forever', async () => {
    const topic = deadLetterTopic(scenario.connector?.prefix ?? '', name);
    occupied.push(await occupyGroup(redriveGroup(`ferry.${name}`), topic));
    const { code, err } = await runFerry('dlq', 'redrive', '--mapping', mapping);
    expect(code).toBe(1);
    expect(err).toContain(`ferry: reading ${topic} (partitions 0 not read to the end): the consumer crashed:`);
    expect(err).toMatch(/protocols are incompatible/);
  }, 120_000);

  it('rebuild fails with the cause when its worker crashes, instead of waiting forever', async () => {
    const shadow = `${scenario.table}-crash`;
    // Below the broker's group.min.session.timeout.ms: the group refuses the join, and kafkajs gives up.
    process.env.FERRY_KAFKA_SESSION_TIMEOUT_MS = '3000';
    try {
      const { code, err } = await runFerry('rebuild', '--mapping', mapping, '--table', shadow, '--json');
      expect(code).toBe(1);
      expect(err).toMatch(
        new RegExp(
          `ferry: rebuild of ${shadow} failed: the consumer of .* crashed and will not restart: .*session timeout`,
        ),
      );
    } finally {
      await dropTable(shadow);
    }
  }, 120_000);

  it('rebuild finishes while the table keeps changing', async () => {
    const shadow = `${scenario.table}-busy`;
    let writing = true;
    const writer = (async () => {
      for (let id = 1000; writing; id++) {
        await scenario.db.query(`INSERT INTO things VALUES (?, ?)`, [id, `row ${id}`]);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await waitFor('changes flowing', async () => {
        const [[row]] = (await scenario.db.query('SELECT COUNT(*) AS n FROM things')) as unknown as [[{ n: number }]];
        return Number(row.n) > 50;
      });
      const { code, out, err } = await runFerry('rebuild', '--mapping', mapping, '--table', shadow, '--json');
      expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(out)).toMatchObject({ shadow, caughtUp: true });
      expect((await scanAll(shadow)).length).toBeGreaterThan(1);
    } finally {
      writing = false;
      await writer;
      await dropTable(shadow);
    }
  }, 180_000);
});
