import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { connectKafkaOptions, connectorNames, removeConnector, stack, waitFor } from '../support/stack';

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

  const connector = (connectorName: string, password: string, kafkaPassword?: string) =>
    runFerry(
      'connector',
      // No --source: the connector class follows the server that FERRY_SOURCE_URL reaches.
      ...['--database', scenario.database, '--name', connectorName],
      ...['--topic-prefix', prefix],
      // The schema history through the TLS + SCRAM listener, as Connect's own login on the stack.
      ...connectKafkaOptions(kafkaPassword),
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
    expect(JSON.parse(applied.out)).toMatchObject({
      name,
      config: { 'topic.prefix': prefix, 'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector' },
    });
    expect(applied.err).toMatch(new RegExp(`connector ${name} RUNNING \\(task 0 RUNNING\\)`));
    await waitFor(`topic ${scenario.topic('things')}`, async () =>
      (await scenario.topics()).includes(scenario.topic('things')),
    );

    // Debezium's schema history was written through the secured listener.
    const history = `${prefix}.schema-history.${scenario.database}`;
    expect(await scenario.topics()).toContain(history);
    expect(applied.err).toMatch(
      /schema history reaches Kafka over TLS with SCRAM-SHA-512 as connect, trusting .*ca\.pem/,
    );

    const refused = await connector(`${name}-bad`, 'not-the-password');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Access denied for user 'ferry_cdc'/);
    await removeConnector(`${name}-bad`);

    // The history's own login is used: a wrong one fails the task.
    const badKafka = await connector(`${name}-bad`, 'ferry_cdc', 'not-the-kafka-password');
    expect(badKafka.code).toBe(1);
    expect(badKafka.err).toMatch(/Authentication failed.*SCRAM-SHA-512/);
  }, 240_000);
});
