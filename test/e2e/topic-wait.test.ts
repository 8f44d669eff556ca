import { Scenario } from '../support/scenario';
import { connectorNames, kafka, scanAll, waitFor } from '../support/stack';

/**
 * A worker deployed before its connector: it must not have the broker create the change topic
 * (this broker would give it 12 partitions, its default), but wait for Debezium to create it with
 * the partitions the connector asks for (3 here), then carry the rows.
 */
describe('e2e > a worker deployed before its connector', () => {
  const scenario = new Scenario();
  const { id, table } = scenario;

  afterAll(() => scenario.tearDown());

  it('waits for the change topic without creating it, then carries the table', async () => {
    await scenario.setUp(
      'CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, "one"), (2, "two")',
    );
    const mapping = scenario.writeMapping(
      'things.ts',
      `name: 'things-${id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
    );
    const topic = scenario.topic('things');
    // Ready once it has joined its group, which it does only once the topic exists.
    const starting = scenario.startWorker(mapping, { FERRY_KAFKA_TOPIC_PREFIX: connectorNames(id).prefix });
    const failedEarly = starting.then(
      () => new Error('the worker was ready before its topic existed'),
      (err: Error) => err,
    );
    // Long enough for several subscriptions' worth of metadata requests.
    const outcome = await Promise.race([failedEarly, new Promise((r) => setTimeout(r, 12_000))]);
    if (outcome instanceof Error) throw outcome;
    expect(await scenario.topics()).not.toContain(topic);

    await scenario.startConnector('json', 'things', { 'topic.creation.default.partitions': '3' });
    const worker = await starting;
    await waitFor(`table ${table} to hold 2 items`, async () => (await scanAll(table)).length === 2, 60_000);
    expect((await scanAll(table)).map((i) => i.name).sort()).toEqual(['one', 'two']);

    const admin = kafka().admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
    expect(worker.output()).toContain(`the change topic ${topic} does not exist yet`);
  }, 240_000);
});
