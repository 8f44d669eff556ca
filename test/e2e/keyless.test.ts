import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMapping } from '../../src/mapping/load-mapping';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { connectKafkaOptions, stack } from '../support/stack';

const codes = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `c${String(from + i).padStart(3, '0')}`);

/**
 * A table with no primary key and no unique key, given a key the one way ferry has: `ferry
 * connector --key` for the connector's message.key.columns, `mapping new --key` for the mapping's
 * `source.key`, which `verify` reads it by. Two workers in one group: a row's changes share a
 * Kafka key, so a partition, and end in order whichever worker holds it.
 */
describe('e2e > a table without a primary key, keyed by ferry', () => {
  const scenario = new Scenario();
  let qualified: string;
  const fix = () =>
    `give the table a key in the connector with message.key.columns (ferry connector --key ${qualified}=<columns>), or add a primary key`;

  beforeAll(async () => {
    await scenario.setUp(
      `CREATE TABLE legacy (code VARCHAR(20) NOT NULL, status VARCHAR(20), n INT);
       CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT);
       INSERT INTO legacy VALUES ${codes(0, 20)
         .map((c) => `('${c}', 'seeded', 0)`)
         .join(', ')}`,
    );
    qualified = `${scenario.database}.legacy`;
    process.env.FERRY_SOURCE_URL = `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`;
  }, 60_000);
  afterAll(() => scenario.tearDown());
  // A timed-out test must not leave stdout and stderr captured: jest reports through them.
  afterEach(() => jest.restoreAllMocks());

  it('ferry connector refuses the table without --key, naming it and the fix', async () => {
    const refused = await runFerry('connector', '--source', 'mariadb', '--database', scenario.database);
    expect(refused.code).toBe(2);
    expect(refused.out).toBe('');
    expect(refused.err).toBe(
      `ferry: ${qualified} has no primary key and no unique key over NOT NULL columns: its rows cannot be told apart. Fix: ${fix()}\n`,
    );
    const nullable = await runFerry(
      'connector',
      '--source',
      'mariadb',
      '--database',
      scenario.database,
      '--key',
      `${qualified}=status`,
    );
    expect([nullable.code, nullable.err]).toEqual([2, expect.stringMatching(/column status allows NULL/)]);
  });

  it('mapping new refuses the table without --key, and with it keys items by the column and declares source.key', async () => {
    const dir = mkdtempSync(join(tmpdir(), `ferry-${scenario.id}-new-`));
    const refused = await runFerry('mapping', 'new', '--table', qualified, '--dir', dir);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`Fix: ${fix()}; then pass the same columns here: --key <columns>`);

    const made = await runFerry('mapping', 'new', '--table', qualified, '--key', 'code', '--dir', dir);
    expect(made.code).toBe(0);
    expect(made.out).toBe(
      `wrote ${join(dir, 'legacy.ts')} (row type from 3 columns, items keyed by code (named), declared as source.key) and ${join(dir, 'legacy.test.ts')}\n`,
    );
    const scaffolded = await loadMapping(join(dir, 'legacy.ts'));
    expect(scaffolded.sourceKey).toEqual(['code']);
    expect(scaffolded.itemsOf({ code: 'c001', status: null, n: 1 })).toEqual([
      { key: { pk: 'LEGACY#c001', sk: 'LEGACY' }, item: { code: 'c001', status: null, n: 1 } },
    ]);
  });

  it('carries 200 rows, each updated five times, half deleted, over two workers; verify reads it by source.key', async () => {
    const printed = await runFerry(
      'connector',
      '--source',
      'mariadb',
      '--database',
      scenario.database,
      '--key',
      `${qualified}=code`,
      '--db-password',
      'ferry_cdc',
      '--db-ssl-mode',
      'disable',
      '--topic-prefix',
      `t${scenario.id}`,
      ...connectKafkaOptions(),
    );
    expect([printed.code, printed.err]).toEqual([
      0,
      `ferry: the schema history reaches Kafka over TLS with SCRAM-SHA-512 as connect, trusting ${join(stack.tlsDir, 'ca.pem')}\n` +
        `ferry: ${qualified} has no primary key: keyed by code (named)\n`,
    ]);
    const { config } = JSON.parse(printed.out) as { name: string; config: Record<string, string> };
    expect(config['message.key.columns']).toBe(`${qualified}:code`);
    // The whole printed config runs on the real connector: key, topics, signalling table and all.
    await scenario.startConnector('json', 'legacy', config);
    scenario.configureCli();

    // The scaffold is the mapping, aimed at this scenario's target table.
    const dir = mkdtempSync(join(tmpdir(), `ferry-${scenario.id}-run-`));
    expect((await runFerry('mapping', 'new', '--table', qualified, '--key', 'code', '--dir', dir)).code).toBe(0);
    const mapping = join(dir, 'legacy.ts');
    writeFileSync(
      mapping,
      readFileSync(mapping, 'utf8')
        .replace(`name: 'legacy'`, `name: 'legacy-${scenario.id}'`)
        .replace(`target: { table: 'legacy'`, `target: { table: '${scenario.table}'`),
    );
    await scenario.startWorker(mapping);
    await scenario.startWorker(mapping);

    await scenario.db.query(
      `INSERT INTO legacy VALUES ${codes(20, 200)
        .map((c) => `('${c}', 'new', 0)`)
        .join(', ')}`,
    );
    for (let round = 1; round <= 5; round++)
      for (const code of codes(0, 200))
        await scenario.db.query('UPDATE legacy SET status = ?, n = ? WHERE code = ?', [`round${round}`, round, code]);
    await scenario.db.query(`DELETE FROM legacy WHERE CAST(SUBSTRING(code, 2) AS UNSIGNED) % 2 = 0`);

    expect(await scenario.expectConverged(mapping, 'SELECT * FROM legacy')).toBe(100);
    const output = scenario.allOutput();
    expect(output).not.toContain('partition blocked');
    expect(output).not.toContain('change sent to the dead letters');

    const verified = await runFerry('verify', '--mapping', mapping);
    expect([verified.code, verified.err]).toEqual([0, '']);
    expect(verified.out).toContain(
      `${scenario.table}: 100 source rows (read by code (named)) -> 100 items; 0 missing, 0 extra`,
    );
  }, 300_000);

  it('verify refuses the table when the mapping declares no source.key, naming the fix', async () => {
    const mapping = scenario.writeMapping(
      'no-key.ts',
      `name: 'legacy-${scenario.id}', key: (row) => ({ pk: 'LEGACY#' + row.code, sk: 'LEGACY' }), item: (row) => ({ ...row }),`,
      'legacy',
    );
    const refused = await runFerry('verify', '--mapping', mapping);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(
      `ferry: ${qualified} has no primary key and no unique key over NOT NULL columns: its rows cannot be told apart. Fix: ${fix()}; then declare the columns in the mapping: source: { table: '${qualified}', key: ['<column>', ...] }\n`,
    );
  });
});
