import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { Scenario } from '../support/scenario';
import { dropTable, dynamoDb, kafka, scanAll, waitFor, maxBlockedSeconds } from '../support/stack';

/** A retriable failure holds the partition, loudly, and the change is written once it clears. */
describe('e2e > a blocked partition', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('logs the partition, item key and error, raises the gauge, stays ready, and writes once the table is back, whatever the retry limit', async () => {
    const mapping = await scenario.startThings();
    // A retry limit does not apply: it would dead-letter every change while the table is missing.
    const worker = await scenario.startWorker(mapping, { FERRY_RETRY_MAX_ATTEMPTS: '2' });
    await waitFor('the snapshot row', async () => (await scanAll(scenario.table)).length === 1);

    // The target table disappears: every write fails with ResourceNotFoundException.
    await dynamoDb().raw.send(new DeleteTableCommand({ TableName: scenario.table }));
    await scenario.db.query(`INSERT INTO things VALUES (2, 'two')`);
    const blockedSeconds = () => maxBlockedSeconds(worker.httpPort);
    await waitFor('the gauge to show a blocked partition', async () => (await blockedSeconds()) > 0, 60_000);
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('partition blocked'));
    expect(JSON.parse(line as string)).toMatchObject({
      level: 40,
      key: { pk: 'T#2', sk: 'T' },
      error: expect.stringMatching(/ResourceNotFoundException.*does table .* exist/),
    });
    expect((await fetch(`http://127.0.0.1:${worker.httpPort}/readyz`)).status).toBe(200);

    await ensureTable(dynamoDb().raw, {
      table: scenario.table,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    });
    await waitFor(
      'the held change to be written',
      async () => (await scanAll(scenario.table)).some((i) => i.pk === 'T#2'),
      90_000,
    );
    await waitFor('the gauge to clear', async () => (await blockedSeconds()) === 0, 30_000);
    expect(worker.output()).toContain('partition unblocked');
  }, 240_000);

  it('stops cleanly on SIGTERM in the middle of a long backoff, within the shutdown deadline', async () => {
    const mapping = scenario.writeMapping(
      'things-stop.ts',
      `name: 'things-stop-${scenario.id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
    );
    const worker = await scenario.startWorker(mapping, { FERRY_SHUTDOWN_TIMEOUT_MS: '10000' });
    await waitFor('the rows', async () => (await scanAll(scenario.table)).length >= 2, 60_000);
    await dynamoDb().raw.send(new DeleteTableCommand({ TableName: scenario.table }));
    await scenario.db.query(`INSERT INTO things VALUES (3, 'three')`);
    const blockedSeconds = () => maxBlockedSeconds(worker.httpPort);
    // By then the backoff has grown to seconds: the stop must not wait for it.
    await waitFor('a long block', async () => (await blockedSeconds()) > 12, 60_000, 1000);
    const started = Date.now();
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 180_000);

  it("blocks, without dead-lettering anything, when the mapping's key does not match the table, whatever the retry limit", async () => {
    // The table exists with another key than the mapping declares: every write would fail alike.
    const table = `${scenario.table}-other-key`;
    await ensureTable(dynamoDb().raw, { table, partitionKey: { name: 'id', type: 'N' } });
    const name = `things-keys-${scenario.id}`;
    const mapping = scenario.writeMapping(
      'things-keys.ts',
      `name: '${name}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
      table,
    );
    const worker = await scenario.startWorker(mapping, { FERRY_RETRY_MAX_ATTEMPTS: '2' });
    await waitFor('a blocked partition', async () => (await maxBlockedSeconds(worker.httpPort)) > 5, 60_000);
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('partition blocked'));
    expect(JSON.parse(line as string)).toMatchObject({
      error: expect.stringMatching(/ValidationException.*the mapping's key does not match table .*'s key schema/),
    });
    const admin = kafka().admin();
    await admin.connect();
    try {
      const dlq = await admin.fetchTopicOffsets(`${scenario.connector?.prefix}.dlq.${name}`);
      expect(dlq.map((p) => p.high)).toEqual(['0']);
    } finally {
      await admin.disconnect();
    }
    expect(await worker.stop('SIGTERM')).toBe(0);
    await dropTable(table);
  }, 180_000);
});
