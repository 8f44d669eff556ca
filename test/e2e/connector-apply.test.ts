import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { connectorNames, removeConnector, stack, waitFor } from '../support/stack';

/** `ferry connector --apply`: the printed config registered with Kafka Connect, waited on until it runs. */
describe('e2e > ferry connector --apply', () => {
  const scenario = new Scenario();
  const name = `ferry-apply-${scenario.id}`;
  const prefix = connectorNames(scenario.id).prefix;
  afterAll(async () => {
    await removeConnector(name);
    await removeConnector(`${name}-bad`);
    await scenario.tearDown();
  });

  const connector = (connectorName: string, password: string) =>
    runFerry(
      'connector',
      ...['--source', 'mariadb', '--database', scenario.database, '--name', connectorName],
      ...['--topic-prefix', prefix, '--kafka-bootstrap', stack.kafkaBrokers.join(',')],
      ...['--db-host', '127.0.0.1', '--db-port', String(stack.mariadb.port)],
      ...['--db-user', 'ferry_cdc', '--db-password', password, '--apply', stack.connectUrl],
    );

  it('registers the connector and returns once it runs; a connector that cannot run is an error naming why', async () => {
    await scenario.setUp(
      `CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, 'one');
       CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)`,
    );
    scenario.configureCli();
    const applied = await connector(name, 'ferry_cdc');
    expect([applied.code, applied.err]).toEqual([0, expect.stringMatching(/RUNNING/)]);
    expect(JSON.parse(applied.out)).toMatchObject({ name, config: { 'topic.prefix': prefix } });
    expect(applied.err).toMatch(new RegExp(`connector ${name} RUNNING \\(task 0 RUNNING\\)`));
    await waitFor(`topic ${scenario.topic('things')}`, async () =>
      (await scenario.topics()).includes(scenario.topic('things')),
    );

    const refused = await connector(`${name}-bad`, 'not-the-password');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Access denied for user 'ferry_cdc'/);
  }, 240_000);
});
