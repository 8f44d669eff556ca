import { Scenario } from '../support/scenario';
import { scanAll, waitFor, type RunningWorker } from '../support/stack';

/** MariaDB binlog -> Debezium -> Kafka -> `ferry run` -> DynamoDB Local, all real. */
describe('e2e > first change end to end', () => {
  const scenario = new Scenario();
  const { id, database, table } = scenario;
  let worker: RunningWorker | undefined;
  let mapping: string;

  const VERSION = expect.stringMatching(/^v1:\d{10}-\d{20}-\d{10}-[012]@\d{15}$/);
  const item = (cid: number, email: string, name: string, status: string, createdAt: string) => ({
    pk: `CUSTOMER#${cid}`,
    sk: 'PROFILE',
    email,
    name,
    status,
    createdAt,
    _ferry_version: VERSION,
  });
  const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.pk).localeCompare(String(b.pk));

  beforeAll(async () => {
    // Rows that exist before the connector starts arrive as snapshot reads.
    await scenario.setUp(`CREATE TABLE customers (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      first_name VARCHAR(100) NOT NULL, last_name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL,
      status ENUM('active','suspended') NOT NULL DEFAULT 'active', created_at DATETIME(6) NOT NULL);
    INSERT INTO customers VALUES
      (1, 'Ada', 'Lovelace', 'ADA@example.com', 'active', '2024-03-01 13:45:00.123456'),
      (2, 'Émile', 'Zola 📚', 'emile@example.fr', 'active', '2024-03-02 08:00:00.000001')`);
    await scenario.startConnector('json', 'customers');
    mapping = scenario.writeMapping(
      'customers.ts',
      `name: 'customers-${id}',
  key: (row) => ({ pk: \`CUSTOMER#\${row.id}\`, sk: 'PROFILE' }),
  item: (row) => ({ email: row.email.toLowerCase(), name: \`\${row.first_name} \${row.last_name}\`, status: row.status, createdAt: row.created_at }),`,
      'customers',
    );
    worker = await scenario.startWorker(mapping);
  }, 180_000);

  afterAll(() => scenario.tearDown());

  async function expectTable(expected: Record<string, unknown>[]) {
    let items: Record<string, unknown>[] = [];
    await waitFor(
      `table ${table} to hold ${expected.length} items`,
      async () => {
        items = (await scanAll(table)).sort(byKey);
        return (
          items.length === expected.length &&
          JSON.stringify(items.map((i) => i.pk)) === JSON.stringify(expected.map((i) => i.pk)) &&
          items
        );
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\nlast scan: ${JSON.stringify(items)}\n--- worker ---\n${worker?.output().slice(-2000)}`,
      );
    });
    await waitFor(
      'items to match',
      async () => {
        items = (await scanAll(table)).sort(byKey);
        expect(items).toEqual(expected);
        return true;
      },
      30_000,
    );
  }

  it('copies snapshot rows, then inserts and updates, and removes deleted rows', async () => {
    await expectTable([
      item(1, 'ada@example.com', 'Ada Lovelace', 'active', '2024-03-01T13:45:00.123456'),
      item(2, 'emile@example.fr', 'Émile Zola 📚', 'active', '2024-03-02T08:00:00.000001'),
    ]);

    await scenario.db.query(
      `INSERT INTO customers VALUES (3, 'Grace', 'Hopper', 'grace@example.com', 'active', '2024-04-01 00:00:00')`,
    );
    await scenario.db.query(`UPDATE customers SET status = 'suspended', email = 'Ada@Lovelace.org' WHERE id = 1`);
    await scenario.db.query(`DELETE FROM customers WHERE id = 2`);

    await expectTable([
      item(1, 'ada@lovelace.org', 'Ada Lovelace', 'suspended', '2024-03-01T13:45:00.123456'),
      item(3, 'grace@example.com', 'Grace Hopper', 'active', '2024-04-01T00:00:00.000000'),
    ]);
  }, 180_000);

  it('counts what it did on /metrics and reports lag and freshness', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${worker?.httpPort}/metrics`)).text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const labels = `mapping="customers-${id}",table="${database}.customers"`;
    expect(value(`ferry_events_total{${labels},op="snapshot",outcome="written"}`)).toBe(2);
    expect(value(`ferry_events_total{${labels},op="create",outcome="written"}`)).toBe(1);
    expect(value(`ferry_events_total{${labels},op="update",outcome="written"}`)).toBe(1);
    expect(value(`ferry_events_total{${labels},op="delete",outcome="written"}`)).toBe(1);
    expect(value(`ferry_freshness_seconds_count{mapping="customers-${id}"}`)).toBeGreaterThan(0);
    expect(metrics).toMatch(/^ferry_consumer_lag_messages\{topic="[^"]+",partition="\d+"\} 0$/m);
    expect((await fetch(`http://127.0.0.1:${worker?.httpPort}/readyz`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    expect(await worker?.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('takes one Ctrl-C relayed twice (npm, tsx, timeout) as one clean stop', async () => {
    const again = await scenario.startWorker(mapping);
    again.process.kill('SIGINT');
    again.process.kill('SIGINT');
    expect(await again.exited).toBe(0);
    expect(again.output()).not.toContain('again');
    expect(again.output()).toContain('worker stopped');
  }, 90_000);
});
