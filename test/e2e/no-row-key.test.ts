import { readFileSync, writeFileSync } from 'node:fs';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { kafka, scanAll, waitFor, maxBlockedSeconds } from '../support/stack';

const BY_AGE = { 'topic.creation.default.cleanup.policy': 'delete' };

/**
 * A table with neither a primary nor a unique key: Debezium sends its changes with no Kafka key,
 * spread over partitions, so they cannot be put in order. None is written.
 */
describe('e2e > a table without a row key', () => {
  const scenario = new Scenario();
  let worker: Awaited<ReturnType<Scenario['startWorker']>>;
  let mapping: string;
  afterAll(() => scenario.tearDown());
  // A timed-out test must not leave stdout and stderr captured: jest reports through them.
  afterEach(() => jest.restoreAllMocks());

  it('is never written: the worker holds at the first change, loudly, naming the table and the fix', async () => {
    await scenario.setUp(
      `CREATE TABLE legacy (code VARCHAR(20) NOT NULL, status VARCHAR(20), n INT);
       CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT);
       INSERT INTO legacy VALUES ${Array.from({ length: 20 }, (_, i) => `('c${i}', 'new', 0)`).join(', ')}`,
    );
    // ferry's configs compact change topics, and Kafka refuses a record without a key there (next
    // describe); a topic that deletes by age takes it, and the worker is what stops it.
    await scenario.startConnector('json', 'legacy', BY_AGE);
    const name = `legacy-${scenario.id}`;
    mapping = scenario.writeMapping(
      'legacy.ts',
      `name: '${name}', key: (row) => ({ pk: 'L#' + row.code, sk: 'L' }), item: (row) => ({ status: row.status, n: row.n }),`,
      'legacy',
    );
    worker = await scenario.startWorker(mapping);

    // 200 rows, each updated five times, then half of them deleted.
    await scenario.db.query(
      `INSERT INTO legacy VALUES ${Array.from({ length: 180 }, (_, i) => `('c${i + 20}', 'new', 0)`).join(', ')}`,
    );
    for (let round = 1; round <= 5; round++)
      for (let i = 0; i < 200; i += 20)
        await scenario.db.query(
          `UPDATE legacy SET status = 'round${round}', n = ${round} WHERE code IN (${Array.from({ length: 20 }, (_, j) => `'c${i + j}'`).join(', ')})`,
        );
    await scenario.db.query(`DELETE FROM legacy WHERE CAST(SUBSTRING(code, 2) AS UNSIGNED) % 2 = 0`);

    await waitFor(
      'the gauge to show a blocked partition',
      async () => (await maxBlockedSeconds(worker.httpPort)) > 0,
      90_000,
    );
    await waitFor(
      'the error line',
      async () => worker.output().includes('partition blocked: a change cannot be ordered'),
      30_000,
    );
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('partition blocked: a change cannot be ordered'));
    const logged = JSON.parse(line as string) as { level: number; error: string };
    expect(logged.level).toBe(50);
    expect(logged.error).toContain(`${scenario.database}.legacy has no row key`);
    expect(logged.error).toContain(`message.key.columns (ferry connector --key ${scenario.database}.legacy=<columns>)`);

    // Give every partition time to reach its first change: still nothing written, sent aside or committed.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await scanAll(scenario.table)).toEqual([]);
    const admin = kafka().admin();
    await admin.connect();
    try {
      const letters = await admin.fetchTopicOffsets(`${scenario.connector?.prefix}.dlq.${name}`);
      expect(letters.map((p) => p.high)).toEqual(letters.map(() => '0'));
      const [committed] = await admin.fetchOffsets({ groupId: `ferry.${name}`, topics: [scenario.topic('legacy')] });
      expect(committed?.partitions.filter((p) => p.offset !== '-1')).toEqual([]);
    } finally {
      await admin.disconnect();
    }
    expect(worker.output()).not.toContain('change sent to the dead letters');
  }, 300_000);

  it('is carried exactly after the runbook: key the table, skip the unkeyed changes, snapshot', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
    await scenario.startConnector('json', 'legacy', {
      ...BY_AGE,
      'message.key.columns': `${scenario.database}.legacy:code`,
    });
    // Nothing is written to the table meanwhile, so every change before now is one without a key.
    await new Promise((r) => setTimeout(r, 5_000));
    const keyedFrom = new Date().toISOString();
    writeFileSync(
      mapping,
      readFileSync(mapping, 'utf8').replace(
        `source: { table: '${scenario.database}.legacy' }`,
        `source: { table: '${scenario.database}.legacy', key: ['code'] }`,
      ),
    );
    scenario.configureCli();
    const reset = await runFerry('offsets', 'reset', '--mapping', mapping, '--to', keyedFrom);
    expect([reset.code, reset.err]).toEqual([0, '']);
    worker = await scenario.startWorker(mapping);
    await scenario.db.query(`UPDATE legacy SET status = 'after', n = 6 WHERE code IN ('c1', 'c3')`);
    const snapshot = await runFerry('snapshot', '--mapping', mapping);
    expect([snapshot.code, snapshot.err]).toEqual([0, '']);

    const items = await scenario.expectConverged(mapping, 'SELECT code, status, n FROM legacy');
    expect(items).toBe(100);
    expect(await maxBlockedSeconds(worker.httpPort)).toBe(0);
    const verified = await runFerry('verify', '--mapping', mapping);
    expect([verified.code, verified.err]).toEqual([0, '']);
  }, 300_000);
});

/** The connector's message.key.columns edited under a running worker: said, counted, and written on. */
describe('e2e > a key that changes columns mid-topic', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('logs an error naming the runbook entry and counts it, and keeps writing', async () => {
    await scenario.setUp(
      `CREATE TABLE items (id INT PRIMARY KEY, code VARCHAR(20) NOT NULL, v INT);
       INSERT INTO items VALUES ${Array.from({ length: 10 }, (_, i) => `(${i}, 'c${i}', 0)`).join(', ')}`,
    );
    await scenario.startConnector('json', 'items');
    const mapping = scenario.writeMapping(
      'items.ts',
      `name: 'items-${scenario.id}', key: (row) => ({ pk: 'I#' + row.id, sk: 'I' }), item: (row) => ({ v: row.v }),`,
      'items',
    );
    const worker = await scenario.startWorker(mapping);
    await waitFor('the snapshot', async () => (await scanAll(scenario.table)).length === 10, 60_000);

    await scenario.startConnector('json', 'items', { 'message.key.columns': `${scenario.database}.items:code` });
    // The new key takes effect once the connector's task restarts: update until a change carries it.
    let v = 0;
    await waitFor(
      'the error line',
      async () => {
        await scenario.db.query(`UPDATE items SET v = ${++v}`);
        return worker.output().includes('changed columns');
      },
      90_000,
      1000,
    );
    await waitFor('the updates', async () => (await scanAll(scenario.table)).every((i) => Number(i.v) === v), 90_000);
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('changed columns'));
    expect(JSON.parse(line as string)).toMatchObject({
      level: 50,
      table: `${scenario.database}.items`,
      keyBefore: 'id',
      keyNow: 'code',
      msg: expect.stringContaining(`README runbook "Changing a table's key columns"`),
    });
    const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^ferry_source_key_changes_total\{[^}]*\} [1-9]/m);
  }, 240_000);
});

/** On the compacted topics ferry's connector configs create, Kafka itself refuses a change without a key. */
describe('e2e > a table without a row key, on a compacted topic', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it("fails the connector's task, naming the topic: nothing reaches the worker", async () => {
    await scenario.setUp(
      `CREATE TABLE legacy (code VARCHAR(20) NOT NULL, n INT);
       INSERT INTO legacy VALUES ('a', 1), ('b', 2)`,
    );
    // Registering may already see the task failed; either way its trace says why.
    await scenario.startConnector('json', 'legacy').catch(() => undefined);
    const failure = await waitFor('the task to fail', () => scenario.connectorFailure(), 60_000);
    expect(failure).toContain(
      `Compacted topic cannot accept message without key in topic partition ${scenario.topic('legacy')}`,
    );
  }, 120_000);
});
