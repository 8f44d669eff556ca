import { Scenario } from '../support/scenario';
import { connectorNames, kafka, scanAll, stack, waitFor, type RunningWorker } from '../support/stack';

/** A worker and its connector's life: deployed before it, then the connector stopping and starting again. */
describe('e2e > a worker and its connector', () => {
  const scenario = new Scenario();
  const { id, table } = scenario;
  let worker: RunningWorker;

  afterAll(() => scenario.tearDown());

  /**
   * Deployed before its connector, the worker must not have the broker create the change topic
   * (this broker would give it 12 partitions, its default), but wait for Debezium to create it
   * with the partitions the connector asks for (3 here), then carry the rows.
   */
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
    worker = await starting;
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

  /**
   * A stopped connector writes nothing, like a quiet table: the worker stays healthy with lag 0.
   * Its heartbeats stop too, and the worker's heartbeat age says so (the alert fires on it).
   */
  it('shows a stopped connector in the heartbeat age, and its return', async () => {
    const { name, prefix } = connectorNames(id);
    const age = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
      const line = metrics.match(/^ferry_capture_heartbeat_age_seconds\{topic="([^"]+)"\} (\S+)$/m);
      expect(line?.[1]).toBe(`__debezium-heartbeat.${prefix}`);
      return Number(line?.[2]);
    };
    // Binlog traffic all along: a running connector writes a heartbeat every 10 s of it.
    let next = 100;
    const traffic = setInterval(
      () => void scenario.db.query('INSERT INTO things VALUES (?, ?)', [next++, 'x']).catch(() => undefined),
      1000,
    );
    const connector = (action: 'pause' | 'resume') =>
      fetch(`${stack.connectUrl}/connectors/${name}/${action}`, { method: 'PUT' }).then((r) =>
        expect(r.status).toBe(202),
      );
    try {
      // Heartbeats every 10 s, read every 15 s: a running connector's age stays under 25 s.
      await waitFor('a heartbeat seen', async () => (await age()) < 20, 60_000);
      await connector('pause');
      await waitFor('the heartbeat age to pass 45 s', async () => (await age()) > 45, 120_000);
      const paused = next;
      expect((await fetch(`http://127.0.0.1:${worker.httpPort}/readyz`)).ok).toBe(true);

      await connector('resume');
      await waitFor('a heartbeat seen again', async () => (await age()) < 20, 90_000);
      await waitFor(
        'the rows inserted while the connector was paused',
        async () => (await scanAll(table)).some((i) => i.pk === `T#${paused - 1}`),
        60_000,
      );
    } finally {
      clearInterval(traffic);
    }
  }, 300_000);
});
