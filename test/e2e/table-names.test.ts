import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { dropTable, waitFor } from '../support/stack';

/**
 * MySQL table names a Kafka topic cannot hold: Debezium writes "order items" to topic
 * <prefix>.<db>.order_items, the topic of table order_items too, and "Prix€ 2" to Prix__2.
 * Each worker finds its topic and applies its own table's rows only: verify passes for all three.
 * "Prix€ 2" also has a column named __proto__, which an object built by assignment cannot hold.
 */
describe('e2e > table names a topic cannot hold', () => {
  const scenario = new Scenario();
  const { id, database } = scenario;
  const targets = ['spaced', 'underscored', 'priced'].map((t) => `${scenario.table}-${t}`);
  const mappings: string[] = [];

  beforeAll(async () => {
    // Two tables sharing a topic, with keys of different columns; snapshot rows in both.
    await scenario.setUp(`CREATE TABLE \`order items\` (id INT PRIMARY KEY, note VARCHAR(20) NOT NULL);
      CREATE TABLE order_items (code VARCHAR(8) PRIMARY KEY, qty INT NOT NULL);
      CREATE TABLE \`Prix€ 2\` (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, __proto__ VARCHAR(5), \`constructor\` INT);
      CREATE TABLE \`a.b\` (id INT PRIMARY KEY);
      INSERT INTO \`order items\` VALUES (1, 'snap'), (2, 'snap');
      INSERT INTO order_items VALUES ('1', 10), ('b', 20);
      INSERT INTO \`Prix€ 2\` VALUES (1, 9.99, 'p', 1)`);
    await scenario.startConnector('json', 'order_items');
    scenario.configureCli();
    // Each mapping: its name, source table, and the key and item it makes of a row.
    const defs = [
      ['spaced', 'order items', '`ITEM#${row.id}`', '{ note: row.note }'],
      ['underscored', 'order_items', '`CODE#${row.code}`', '{ qty: row.qty }'],
      ['priced', 'Prix€ 2', '`PRICE#${row.id}`', '{ ...row }'],
    ];
    defs.forEach(([name, source, key, item], index) =>
      mappings.push(
        scenario.writeMapping(
          `${name}.ts`,
          `name: '${name}-${id}', key: (row) => ({ pk: ${key}, sk: 'S' }), item: (row) => (${item}),`,
          source,
          targets[index],
        ),
      ),
    );
    await Promise.all(mappings.map((m) => scenario.startWorker(m)));
  }, 240_000);

  afterAll(async () => {
    await scenario.tearDown();
    await Promise.all(targets.map((t) => dropTable(t)));
  });

  it('each worker applies its own table from the shared or renamed topic; verify finds nothing', async () => {
    await scenario.db.query(`USE ${database};
      INSERT INTO \`order items\` VALUES (3, 'new'); UPDATE \`order items\` SET note = 'changed' WHERE id = 1;
      DELETE FROM \`order items\` WHERE id = 2;
      INSERT INTO order_items VALUES ('2', 30); UPDATE order_items SET qty = 11 WHERE code = '1';
      DELETE FROM order_items WHERE code = 'b';
      INSERT INTO \`Prix€ 2\` VALUES (2, 0.01, NULL, NULL); UPDATE \`Prix€ 2\` SET amount = 10.50, __proto__ = 'q' WHERE id = 1`);
    const expected = [
      'spaced: 2 source rows (read by id (primary key)) -> 2 items; 0 missing, 0 extra, 0 different, 0 unmappable',
      'underscored: 2 source rows (read by code (primary key)) -> 2 items; 0 missing, 0 extra, 0 different, 0 unmappable',
      'priced: 2 source rows (read by id (primary key)) -> 2 items; 0 missing, 0 extra, 0 different, 0 unmappable',
    ];
    let said: string[] = [];
    await waitFor(
      'verify to find nothing for each mapping',
      async () => {
        said = [];
        for (const m of mappings) said.push((await runFerry('verify', '--mapping', m)).out.split('\n')[0] ?? '');
        return said.map((line) => line.replace(`${scenario.table}-`, '')).join('\n') === expected.join('\n');
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${said.join('\n')}\n--- workers ---\n${scenario.allOutput().slice(-3000)}`);
    });
    // Each worker said once which other table's rows it skips, and dead-lettered nothing.
    const output = scenario.allOutput();
    expect(output.match(/also carries changes of/g)).toHaveLength(2);
    expect(output).toContain(
      `also carries changes of ${database}.order_items: Debezium names the topics of ${database}.order_items and ${database}.order items alike`,
    );
    expect(output).not.toContain('dead-letter');
  }, 150_000);

  it('ferry connector describes every table, a dot in its name too, and names the tables sharing a topic', async () => {
    const result = await runFerry('connector', '--database', database, '--topic-prefix', 'p');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).config['database.include.list']).toBe(database);
    expect(result.err).toContain(
      `ferry: ${database}.order items and ${database}.order_items share topic p.${database}.order_items`,
    );
  });
});
