import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadMapping } from '../../src/mapping/load-mapping';
import { readRange } from '../../src/source/kafka/read-range';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SELECT,
  accountsMapping,
  decodeAccount,
  startAccounts,
  accountsMappingThrowingOnPoison,
} from '../support/accounts-workload';
import { dropTable, dynamoDb, kafka, waitFor } from '../support/stack';

/** Every operator and developer command, driven in-process against the real stack. */
describe('cli > operator and developer commands', () => {
  const scenario = new Scenario();
  let name: string;
  let live: string;
  let fixed: string;
  const doc = dynamoDb().doc;

  const ferry = runFerry;
  const ferryJson = async (...args: string[]) => {
    const result = await ferry(...args, '--json');
    if (result.code !== 0 && result.code !== 4)
      throw new Error(`ferry ${args.join(' ')} -> ${result.code}: ${result.err}`);
    return { code: result.code, json: JSON.parse(result.out) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const key = (id: number) => ({ pk: `ACCOUNT#${id}`, sk: 'PROFILE' });

  beforeAll(async () => {
    const signalTable =
      'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)';
    const workload = await startAccounts(scenario, 60, 'json', signalTable);
    for (let i = 0; i < 60; i++) await workload.randomChange();
    name = `accounts-${scenario.id}`;
    const throwing = accountsMappingThrowingOnPoison(name);
    live = scenario.writeMapping('live.ts', throwing);
    fixed = scenario.writeMapping('fixed.ts', accountsMapping(name));
    scenario.configureCli();
    await scenario.startWorker(live);
    await scenario.expectConverged(live, ACCOUNTS_SELECT, decodeAccount);
  }, 240_000);

  afterAll(() => scenario.tearDown());
  // A timed-out test must not leave stdout and stderr captured: jest reports through them.
  afterEach(() => jest.restoreAllMocks());

  it('offsets show: lag per partition and the live member', async () => {
    const { json } = await ferryJson('offsets', 'show', '--mapping', live);
    expect(json.partitions).toHaveLength(12);
    expect(json.members).toHaveLength(1);
    expect(json.totalLag).toBe(0);
  });

  it('offsets reset: refuses while a worker is in the group, changes nothing, exit 3', async () => {
    const before = (await ferryJson('offsets', 'show', '--mapping', live)).json.partitions;
    const refused = await ferry('offsets', 'reset', '--mapping', live, '--to', 'earliest');
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/has 1 active member\(s\): ferry@.*; stop its workers first/);
    expect((await ferryJson('offsets', 'show', '--mapping', live)).json.partitions).toEqual(before);
    const dry = await ferryJson('offsets', 'reset', '--mapping', live, '--to', '0=0', '--dry-run').catch(
      (e: Error) => e,
    );
    expect(String(dry)).toMatch(/-> 3/);
  });

  it('verify: finds injected missing, extra and changed items, repairs them, then passes', async () => {
    const [[{ id: a }], [{ id: b }]] = [
      ((await scenario.db.query('SELECT MIN(id) AS id FROM accounts')) as unknown as [[{ id: number }]])[0],
      ((await scenario.db.query('SELECT MAX(id) AS id FROM accounts')) as unknown as [[{ id: number }]])[0],
    ];
    expect((await ferryJson('verify', '--mapping', live)).json).toMatchObject({
      missing: 0,
      extra: 0,
      different: 0,
      within: true,
    });
    await doc.send(new DeleteCommand({ TableName: scenario.table, Key: key(a) }));
    await doc.send(
      new UpdateCommand({
        TableName: scenario.table,
        Key: key(b),
        UpdateExpression: 'SET tier = :t',
        ExpressionAttributeValues: { ':t': 'bogus' },
      }),
    );
    await doc.send(
      new PutCommand({ TableName: scenario.table, Item: { ...key(999_999), email: 'ghost@example.com' } }),
    );

    const diverged = await ferryJson('verify', '--mapping', live, '--max-divergence', '0.001');
    expect(diverged.code).toBe(4);
    expect(diverged.json).toMatchObject({ missing: 1, extra: 1, different: 1, within: false });
    expect(diverged.json.examples.map((e: { kind: string; key: object }) => [e.kind, e.key])).toEqual(
      expect.arrayContaining([
        ['missing', key(a)],
        ['different', key(b)],
        ['extra', key(999_999)],
      ]),
    );
    const repaired = await ferryJson('verify', '--mapping', live, '--repair');
    expect(repaired.json.repaired).toEqual({ written: 2, deleted: 1, skippedNewer: 0 });
    expect((await ferryJson('verify', '--mapping', live)).json).toMatchObject({
      missing: 0,
      extra: 0,
      different: 0,
      within: true,
    });
    expect((await ferry('verify', '--mapping', live, '--sample', '50')).code).toBe(0);
  }, 60_000);

  it('dlq: lists dead letters, redrives them through the fixed mapping', async () => {
    await scenario.db.query(
      `INSERT INTO accounts VALUES (5001, 'poison-a@example.com', 'free', 1, NOW(6)), (5002, 'poison-b@example.com', 'pro', 2, NOW(6))`,
    );
    await waitFor('two dead letters', async () => (await ferryJson('dlq', 'list', '--mapping', live)).json.total === 2);
    const listed = (await ferryJson('dlq', 'list', '--mapping', live)).json;
    expect(listed).toMatchObject({
      total: 2,
      notRedriven: 2,
      byErrorClass: [{ errorClass: 'MappingError', count: 2 }],
    });
    const shown = (await ferryJson('dlq', 'show', '--mapping', live)).json;
    expect(shown.map((l: { errorMessage: string }) => l.errorMessage).sort()).toEqual([
      expect.stringContaining('poison-a'),
      expect.stringContaining('poison-b'),
    ]);

    expect((await ferryJson('dlq', 'redrive', '--mapping', fixed, '--dry-run')).json).toMatchObject({
      dryRun: true,
      messages: 2,
      written: 2,
    });
    expect((await ferryJson('dlq', 'list', '--mapping', live)).json.notRedriven).toBe(2);
    expect((await ferryJson('dlq', 'redrive', '--mapping', fixed)).json).toMatchObject({
      messages: 2,
      written: 2,
      'dead-lettered': 0,
    });
    expect((await doc.send(new GetCommand({ TableName: scenario.table, Key: key(5001) }))).Item).toMatchObject({
      email: 'poison-a@example.com',
    });
    expect((await ferryJson('dlq', 'list', '--mapping', live)).json.notRedriven).toBe(0);
  }, 120_000);

  it('snapshot --where: re-reads only the matching rows', async () => {
    const [rows] = (await scenario.db.query('SELECT id FROM accounts ORDER BY id LIMIT 4')) as unknown as [
      Array<{ id: number }>,
    ];
    const ids = rows.map((r) => r.id);
    for (const id of ids) await doc.send(new DeleteCommand({ TableName: scenario.table, Key: key(id) }));
    const sent = await ferryJson('snapshot', '--mapping', fixed, '--where', `id IN (${ids[0]}, ${ids[1]})`);
    expect(sent.json.signal).toMatch(/^[0-9a-f-]{36}$/);
    for (const id of ids.slice(0, 2)) {
      await waitFor(
        `item ${id} re-read`,
        async () => (await doc.send(new GetCommand({ TableName: scenario.table, Key: key(id) }))).Item !== undefined,
        90_000,
      );
    }
    for (const id of ids.slice(2))
      expect((await doc.send(new GetCommand({ TableName: scenario.table, Key: key(id) }))).Item).toBeUndefined();
    await ferryJson('verify', '--mapping', fixed, '--repair');
  }, 120_000);

  it('mapping diff: shows what a new version would change, committing nothing', async () => {
    const v2 = scenario.writeMapping(
      'v2.ts',
      accountsMapping(name).replace(
        'updatedAt: row.updated_at',
        "updatedAt: row.updated_at, vip: row.tier === 'team' ? true : undefined",
      ),
    );
    const group = (await ferryJson('offsets', 'show', '--mapping', live)).json.partitions;
    const { json } = await ferryJson('mapping', 'diff', '--mapping', fixed, '--new', v2);
    const [[{ n }]] = (await scenario.db.query(
      `SELECT COUNT(*) AS n FROM accounts WHERE tier = 'team'`,
    )) as unknown as [[{ n: number }]];
    expect(json).toMatchObject({ added: 0, removed: 0, changed: Number(n), newMappingErrors: 0 });
    expect(json.examples.changed[0].after.vip).toBe(true);
    expect((await ferryJson('offsets', 'show', '--mapping', live)).json.partitions).toEqual(group);
  }, 60_000);

  it('rebuild: replays into a shadow table that passes verify; the live table is untouched', async () => {
    const shadow = `${scenario.table}-shadow`;
    try {
      const rebuilt = await ferryJson('rebuild', '--mapping', fixed, '--table', shadow);
      expect(rebuilt.json).toMatchObject({ shadow, caughtUp: true });
      expect(rebuilt.json.cutover[0]).toBe(`ferry verify --mapping ${fixed} --table ${shadow}`);
      expect((await ferryJson('verify', '--mapping', fixed, '--table', shadow)).json).toMatchObject({
        missing: 0,
        extra: 0,
        different: 0,
        within: true,
      });
      expect((await ferryJson('verify', '--mapping', fixed)).json.within).toBe(true);
    } finally {
      await dropTable(shadow);
    }
  }, 120_000);

  it('mapping test: prints the intents for captured events; exit 1 when one would be dead-lettered', async () => {
    const lines: string[] = [];
    await readRange(kafka(), {
      topic: scenario.topic(),
      onBatch: async (_p, messages) =>
        void lines.push(...messages.slice(0, 3).map((m) => JSON.stringify({ value: m.value?.toString() ?? null }))),
    });
    const events = join(scenario.dir, 'events.jsonl');
    writeFileSync(events, lines.slice(0, 5).join('\n'));
    const ok = await ferry('mapping', 'test', fixed, events, '--json');
    expect(ok.code).toBe(0);
    const first = JSON.parse(ok.out.split('\n')[0] as string);
    expect(first.intents.map((i: { key: { pk: string } }) => i.key.pk.split('#')[0])).toEqual(
      expect.arrayContaining(['ACCOUNT']),
    );
    writeFileSync(events, `${lines[0]}\n{"value": "{not json"}`);
    const bad = await ferry('mapping', 'test', fixed, events);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/line 2: would go to the dead letters: DecodeError: .*malformed JSON/);
  }, 60_000);

  it('mapping new: scaffolds a module that loads, and refuses to overwrite it', async () => {
    const made = await ferry('mapping', 'new', '--table', `${scenario.database}.accounts`, '--dir', scenario.dir);
    expect(made.code).toBe(0);
    expect(existsSync(join(scenario.dir, 'accounts.test.ts'))).toBe(true);
    const scaffolded = await loadMapping(join(scenario.dir, 'accounts.ts'));
    expect(scaffolded.sourceTable).toBe(`${scenario.database}.accounts`);
    expect(
      (await ferry('mapping', 'new', '--table', `${scenario.database}.accounts`, '--dir', scenario.dir)).code,
    ).toBe(3);
  });

  it('a table with no change topic yet: commands that read it name the topic, exit 2; dlq has no letters, exit 0', async () => {
    const ghost = scenario.writeMapping('ghost.ts', accountsMapping(`ghost-${scenario.id}`), 'not_captured_yet');
    const topic = scenario.topic('not_captured_yet');
    for (const args of [['offsets', 'show'], ['offsets', 'reset', '--to', 'earliest'], ['rebuild']]) {
      const result = await ferry(...args, '--mapping', ghost);
      expect([args.join(' '), result.code, result.err]).toEqual([
        args.join(' '),
        2,
        `ferry: the change topic ${topic} does not exist yet: Debezium creates it with the first change of ${scenario.database}.not_captured_yet it captures; check that the connector runs and captures ${scenario.database}.not_captured_yet (ferry connector), and FERRY_KAFKA_TOPIC_PREFIX\n`,
      ]);
    }
    const noLetters = `no dead letters: ${scenario.connector?.prefix}.dlq.ghost-${scenario.id} does not exist (a worker of ghost-${scenario.id} creates it when it starts)\n`;
    for (const args of [
      ['dlq', 'list'],
      ['dlq', 'show'],
      ['dlq', 'redrive'],
    ])
      expect(await ferry(...args, '--mapping', ghost)).toMatchObject({ code: 0, out: noLetters });
    expect((await ferryJson('dlq', 'list', '--mapping', ghost)).json).toMatchObject({ total: 0, topic: null });
    // Asking created neither topic.
    expect(
      (await scenario.topics()).filter((t) => t.includes('not_captured_yet') || t.includes(`dlq.ghost-${scenario.id}`)),
    ).toEqual([]);
  });

  it('bad input: one line naming the problem, a non-zero exit, nothing changed', async () => {
    const unknown = await ferry('offsets', 'show', '--mapping', 'no-such-mapping');
    expect([unknown.code, unknown.err]).toEqual([
      2,
      expect.stringMatching(/^ferry: unknown mapping "no-such-mapping": .*known: customers/),
    ]);
    const badTo = await ferry('offsets', 'reset', '--mapping', live, '--to', 'yesterday');
    expect([badTo.code, badTo.err]).toEqual([2, expect.stringMatching(/--to "yesterday" is not earliest, latest/)]);
    const noTable = await ferry('mapping', 'new', '--table', `${scenario.database}.nope`, '--dir', scenario.dir);
    expect([noTable.code, noTable.err]).toEqual([2, expect.stringMatching(/source table .*\.nope not found/)]);
    const broken = join(scenario.dir, 'broken.ts');
    writeFileSync(broken, 'export default defineMapping({ name: ');
    const compile = await ferry('offsets', 'show', '--mapping', broken);
    expect([compile.code, compile.err]).toEqual([
      2,
      expect.stringMatching(/mapping module .*broken.ts failed to load/),
    ]);
    // The live mapping cannot map the poison rows: verify counts them as unmappable.
    expect((await ferryJson('verify', '--mapping', live)).json).toMatchObject({ unmappable: 2, within: false });
    process.env.FERRY_SOURCE_URL = 'mysql://ferry:ferry@127.0.0.1:1';
    const unreachable = await ferry('verify', '--mapping', fixed);
    expect([unreachable.code, unreachable.err]).toEqual([
      1,
      expect.stringMatching(
        /cannot connect to the source database \(mysql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\).*FERRY_SOURCE_URL/,
      ),
    ]);
    process.env.FERRY_KAFKA_BROKERS = '127.0.0.1:1';
    const noKafka = await ferry('offsets', 'show', '--mapping', live);
    expect([noKafka.code, noKafka.err]).toEqual([
      1,
      expect.stringMatching(/ferry: cannot reach Kafka at 127\.0\.0\.1:1: .*check FERRY_KAFKA_BROKERS/),
    ]);
    const noMapping = await ferry('run');
    expect([noMapping.code, noMapping.err]).toEqual([
      2,
      expect.stringMatching(/^ferry: no mapping: pass --mapping <name or path>, or set FERRY_MAPPING/),
    ]);
    const missingArg = await ferry('offsets', 'reset', '--mapping', live);
    expect(missingArg.code).toBe(2);
  }, 60_000);
});
