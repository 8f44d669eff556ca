import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { connectKafkaOptions, connectorNames, kafka, removeConnector, stack, waitFor } from '../support/stack';

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
    // A sequence and a system-versioned table, whose row events stop Debezium 3.4: left out.
    await scenario.setUp(
      `CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, 'one');
       CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT);
       CREATE SEQUENCE ids; CREATE TABLE audited (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;
       INSERT INTO audited VALUES (1, 1)`,
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
    expect(applied.err).toContain(`${scenario.database}.ids is left out (table.exclude.list): a sequence`);
    expect(applied.err).toContain(
      `${scenario.database}.audited is left out (table.exclude.list): a system-versioned table`,
    );
    // Their changes pass the connector by; the next change of a captured table arrives.
    await scenario.db.query(`USE ${scenario.database}; SELECT NEXTVAL(ids); UPDATE audited SET v = 2;
      DELETE FROM audited; INSERT INTO things VALUES (2, 'two')`);
    await waitFor('the change after them', async () => {
      const failure = await scenario.connectorFailure(name);
      if (failure) throw new Error(`the connector failed: ${failure.slice(0, 600)}`);
      const admin = kafka().admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(scenario.topic('things'));
        return offsets.reduce((n, p) => n + Number(p.high), 0) === 2;
      } finally {
        await admin.disconnect();
      }
    });
    const named = await runFerry('connector', '--database', scenario.database, '--tables', 'things,ids');
    expect([named.code, named.err]).toEqual([
      2,
      expect.stringContaining(`--tables: ${scenario.database}.ids is a sequence`),
    ]);

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
