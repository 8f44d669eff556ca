import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';
import { runFerry } from '../support/cli';
import { dropTable, stack, waitFor } from '../support/stack';

/** The Avro connector (Confluent wire format through the registry's ccompat API) end to end. */
describe('e2e > avro through the schema registry', () => {
  const scenario = new Scenario();

  beforeAll(async () => {
    const workload = await startAccounts(
      scenario,
      50,
      'avro',
      'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)',
    );
    for (let i = 0; i < 150; i++) await workload.randomChange();
  }, 180_000);

  afterAll(async () => {
    // Test files share the process: the next one's CLI reads JSON again.
    delete process.env.FERRY_FORMAT;
    delete process.env.FERRY_SCHEMA_REGISTRY_URL;
    await scenario.tearDown();
    await dropTable(`${scenario.table}-shadow`);
  });
  const avro = { FERRY_FORMAT: 'avro', FERRY_SCHEMA_REGISTRY_URL: `${stack.registryUrl}/apis/ccompat/v7` };

  it('converges from Avro-encoded changes exactly as from JSON', async () => {
    const mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    await scenario.startWorker(mapping, avro);
    expect(await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount)).toBeGreaterThan(50);
  }, 300_000);

  it('finds the initial snapshot in Avro, and rebuilds with --snapshot followed through Avro notifications', async () => {
    const mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    scenario.configureCli();
    Object.assign(process.env, avro);
    const shown = await runFerry('offsets', 'show', '--mapping', mapping, '--json');
    expect([shown.code, shown.err]).toEqual([0, '']);
    expect(JSON.parse(shown.out)).toMatchObject({ rebuild: { complete: true, missing: [] } });

    const shadow = `${scenario.table}-shadow`;
    const rebuilt = await runFerry('rebuild', '--mapping', mapping, '--table', shadow, '--snapshot', '--json');
    expect([rebuilt.code, rebuilt.err]).toEqual([0, '']);
    expect(JSON.parse(rebuilt.out)).toMatchObject({ complete: true, snapshot: { chunks: 1 } });
    const verified = await runFerry('verify', '--mapping', mapping, '--table', shadow);
    expect([verified.code, verified.err]).toEqual([0, '']);
  }, 300_000);

  it('carries columns Avro or a JavaScript object cannot name under their own names: the scaffolded mapping converges and verify passes', async () => {
    const table = `labels_${scenario.id}`;
    // Created after the connector started (its DDL streamed); the key column too has no Avro name.
    // __proto__ is an Avro name, but assigned to an object it sets the prototype and the value is lost.
    await scenario.db.query(`USE ${scenario.database};
      CREATE TABLE ${table} (\`order-ref\` VARCHAR(10) PRIMARY KEY, \`1st\` INT, \`prix€\` DECIMAL(6,2) NOT NULL, \`two words\` VARCHAR(5), __proto__ VARCHAR(5), \`constructor\` INT);
      INSERT INTO ${table} VALUES ('R-1', 1, 1.50, 'a b', 'p', 1), ('R-2', NULL, 2.00, NULL, NULL, NULL), ('R-3', 3, 0.01, 'c', 'q', 3)`);
    scenario.configureCli();
    Object.assign(process.env, avro);
    const scaffolded = await runFerry(
      'mapping',
      'new',
      '--table',
      `${scenario.database}.${table}`,
      '--dir',
      scenario.dir,
    );
    expect([scaffolded.code, scaffolded.err]).toEqual([0, '']);
    const mapping = `${scenario.dir}/${table}.ts`;
    await scenario.startWorker(mapping, avro);
    await scenario.db.query(`USE ${scenario.database};
      UPDATE ${table} SET \`two words\` = 'x y', \`1st\` = 7, __proto__ = 'u' WHERE \`order-ref\` = 'R-2';
      DELETE FROM ${table} WHERE \`order-ref\` = 'R-3';
      INSERT INTO ${table} VALUES ('R-4', 4, 4.44, 'd', 'r', 4)`);
    let said = '';
    await waitFor(
      'verify to find the items of every row',
      async () => {
        said = (await runFerry('verify', '--mapping', mapping)).out;
        return said.startsWith(
          `${table}: 3 source rows (read by order-ref (primary key)) -> 3 items; 0 missing, 0 extra, 0 different`,
        );
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${said}\n--- workers ---\n${scenario.allOutput().slice(-3000)}`);
    });
    expect(scenario.allOutput()).not.toContain('dead-letter');
    await dropTable(table);
  }, 300_000);
});
