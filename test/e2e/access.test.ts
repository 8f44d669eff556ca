import { spawnSync } from 'node:child_process';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type KafkaMessage, Partitioners } from 'kafkajs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { loadConfig } from '../../src/config/config';
import { ConsoleData } from '../../src/console/console-data';
import { type Role, roleActions } from '../../src/deploy/iam';
import { ensureDeletesTable } from '../../src/sink/dynamodb/deletes';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { readRange } from '../../src/source/kafka/read-range';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { dropTable, dynamoDb, kafka, scanAll, stack, waitFor } from '../support/stack';
import { type ThrottleProxy, startThrottleProxy } from '../support/throttle-proxy';

const ROWS = 30;
const DELETES_TABLE = 'ferry-deletes';

/** Runs SQL as the stack's administrator (root over the socket), as an operator applies ferry's output. */
function asAdministrator(sql: string): void {
  const socket = join(__dirname, '..', '..', '.stack', 'mariadb', 'mariadb.sock');
  const run = spawnSync('mariadb', ['--no-defaults', '-S', socket, '-u', userInfo().username, '-e', sql], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`mariadb: ${run.stderr}`);
}

/**
 * Least privilege, proved on the real stack: the users `ferry grants` prints run Debezium, an
 * incremental snapshot and verify; each role's `ferry iam` policy names exactly the DynamoDB
 * calls the role makes, recorded through a proxy in front of DynamoDB Local.
 */
describe('e2e > least privilege', () => {
  const scenario = new Scenario();
  const users = { cdc: `cdc_${scenario.id}`, worker: `w_${scenario.id}`, verify: `v_${scenario.id}` };
  let proxy: ThrottleProxy;
  let mapping: string;
  const sourceUrl = (user: string) => `mysql://${user}:pw@127.0.0.1:${stack.mariadb.port}`;

  beforeAll(async () => {
    const rows = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'thing ${i + 1}')`).join(',');
    await scenario.setUp(
      `CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO things VALUES ${rows};
       CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)`,
    );
    mapping = scenario.writeMapping(
      'things.ts',
      `name: 'things-${scenario.id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
    );
    scenario.configureCli();
    const grants = await runFerry(
      'grants',
      '--mapping',
      mapping,
      '--source',
      'mariadb',
      '--cdc-user',
      users.cdc,
      '--worker-user',
      users.worker,
      '--verify-user',
      users.verify,
      '--host',
      '127.0.0.1',
    );
    expect(grants.code).toBe(0);
    asAdministrator(grants.out.replaceAll('<password>', 'pw'));
    proxy = await startThrottleProxy(stack.dynamoDbEndpoint);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await scenario.tearDown();
    for (const user of Object.values(users)) asAdministrator(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
  });

  /** The calls recorded since the last look, as `action table-role`, the tables named by role. */
  const recorded = (tables: Record<string, string>) => {
    const seen = new Set(
      proxy.calls.splice(0).map(({ action, table }) => {
        const role = Object.entries(tables).find(([, pattern]) => new RegExp(`^${pattern}$`).test(table))?.[0];
        return `${action} ${role ?? `unexpected table ${table}`}`;
      }),
    );
    return [...seen].sort();
  };
  const policy = (role: Role, options: { createTables?: boolean; repair?: boolean } = {}) =>
    [...roleActions(role, options)]
      .flatMap(([table, actions]) => [...actions].map((a) => `dynamodb:${a} ${table}`))
      .sort();
  const without = (all: string[], rare: string[]) => all.filter((a) => !rare.includes(a));

  it("runs Debezium, a snapshot request and verify as the users `ferry grants` prints, and each role's DynamoDB calls are its policy", async () => {
    const tables = { target: scenario.table, deletes: DELETES_TABLE, shadow: `${scenario.table}-rebuild-.*` };
    // The tables exist beforehand, as in production (the worker runs without FERRY_DYNAMODB_CREATE_TABLES).
    await ensureTable(dynamoDb().raw, {
      table: scenario.table,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    });
    await ensureDeletesTable(dynamoDb().raw, DELETES_TABLE, true);

    // Debezium logs in as the CDC user.
    await scenario.startConnector('json', 'things', { 'database.user': users.cdc, 'database.password': 'pw' });
    scenario.configureCli();
    const worker = await scenario.startWorker(mapping, {
      FERRY_DYNAMODB_ENDPOINT: proxy.url,
      FERRY_DYNAMODB_CREATE_TABLES: 'false',
      FERRY_SOURCE_URL: sourceUrl(users.worker),
    });
    await waitFor('the snapshot rows', async () => (await scanAll(scenario.table)).length === ROWS, 90_000);
    await scenario.db.query(`UPDATE things SET name = 'changed' WHERE id <= 5; DELETE FROM things WHERE id > 25`);
    await scenario.db.query(`INSERT INTO things VALUES (100, 'new')`);
    await scenario.expectConverged(mapping, 'SELECT id, name FROM things');
    // A deleted row's tombstone again, without its delete (as after compaction): the worker reads the item's version.
    const tombstone = (await messagesIn(scenario.topic('things'))).find((m) => m.value === null);
    if (!tombstone?.key) throw new Error(`no tombstone in ${scenario.topic('things')}`);
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: scenario.topic('things'), messages: [{ key: tombstone.key, value: null }] });
    await producer.disconnect();
    await waitFor('the lone tombstone checked', async () =>
      /^ferry_lone_tombstones_total\{[^}]*\} [1-9]/m.test(
        await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text(),
      ),
    );
    expect(recorded(tables)).toEqual(policy('worker'));

    // A snapshot is asked for as the worker's user; Debezium writes its window markers as the CDC user.
    process.env.FERRY_SOURCE_URL = sourceUrl(users.worker);
    const before = (await messagesIn(scenario.topic('things'))).length;
    const snapshot = await runFerry('snapshot', '--mapping', mapping);
    expect([snapshot.code, snapshot.err]).toEqual([0, '']);
    await waitFor(
      'the incremental snapshot re-reading every row',
      async () => (await messagesIn(scenario.topic('things'))).length >= before + 26,
      90_000,
    );
    await scenario.expectConverged(mapping, 'SELECT id, name FROM things');
    // The snapshot's re-reads may still be in flight: what the worker writes until it stops is its own.
    await worker.stop('SIGTERM');
    proxy.calls.splice(0);

    // verify as the verify user, through the proxy.
    Object.assign(process.env, { FERRY_SOURCE_URL: sourceUrl(users.verify), FERRY_DYNAMODB_ENDPOINT: proxy.url });
    try {
      expect((await runFerry('verify', '--mapping', mapping)).code).toBe(0);
      expect(recorded(tables)).toEqual(policy('verify'));

      const rebuilt = await runFerry('rebuild', '--mapping', mapping);
      expect(rebuilt.code).toBe(0);
      // Paths this rebuild did not take: an item DynamoDB refuses in a batch, written alone by the
      // conditional writer; the version of a key written earlier in the run.
      const rare = [
        ...['GetItem', 'PutItem', 'DeleteItem', 'BatchGetItem'].map((a) => `dynamodb:${a} shadow`),
        ...['PutItem', 'ConditionCheckItem'].map((a) => `dynamodb:${a} deletes`),
      ];
      const rebuild = recorded(tables);
      expect(without(rebuild, rare)).toEqual(without(policy('rebuild'), rare));
      expect(rebuild.filter((c) => !policy('rebuild').includes(c))).toEqual([]);

      // The console's item page reads the item; a retry writes as the worker does (above).
      const config = loadConfig({ overrides: { mappingsDir: scenario.dir } });
      const data = new ConsoleData(config, kafka(), { mappingsDir: scenario.dir, workerPort: 9464, pageSize: 50 });
      await data.item(`things-${scenario.id}`, '{"pk":"T#1","sk":"T"}');
      expect(recorded(tables)).toEqual(['dynamodb:GetItem target']);
    } finally {
      Object.assign(process.env, { FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint });
      for (const t of await listRebuilt(scenario.table)) await dropTable(t);
    }
  }, 420_000);
});

async function messagesIn(topic: string): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = [];
  await readRange(kafka(), { topic, onBatch: async (_p, batch) => void messages.push(...batch) });
  return messages;
}

async function listRebuilt(table: string): Promise<string[]> {
  const { TableNames = [] } = await dynamoDb().raw.send(new ListTablesCommand({}));
  return TableNames.filter((t) => t.startsWith(`${table}-rebuild-`));
}
