import { deadLetterTopic } from '../../src/pipeline/dead-letters';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { dropTable, kafka, maxBlockedSeconds, stack, waitFor } from '../support/stack';
import { type ThrottleProxy, startThrottleProxy } from '../support/throttle-proxy';

const ROWS = 40;

/**
 * A mapping's retry limit: under throttling that does not clear, a limited mapping dead-letters
 * its changes and moves on, while the default holds the partition. Both end exact once it clears.
 */
describe('e2e > retry limits', () => {
  const scenario = new Scenario();
  let proxy: ThrottleProxy;
  afterAll(async () => {
    await proxy?.close();
    await scenario.tearDown();
    await dropTable(`${scenario.table}-limited`);
  });

  const lettersIn = async (topic: string) => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) return 0;
      return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('dead-letters after maxAttempts and moves on, where the default blocks; a redrive after the fault converges', async () => {
    const rows = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'thing ${i + 1}')`).join(',');
    await scenario.setUp(
      `CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO things VALUES ${rows}`,
    );
    await scenario.startConnector('json', 'things');
    const body = (name: string, extra: string) =>
      `name: '${name}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),${extra}`;
    const limitedName = `limited-${scenario.id}`;
    const limited = scenario.writeMapping(
      'limited.ts',
      body(limitedName, ' retry: { maxAttempts: 3 },'),
      'things',
      `${scenario.table}-limited`,
    );
    const held = scenario.writeMapping('held.ts', body(`held-${scenario.id}`, ''), 'things');

    // Every write throttled, for as long as it takes.
    proxy = await startThrottleProxy(stack.dynamoDbEndpoint, 1);
    const env = { FERRY_DYNAMODB_ENDPOINT: proxy.url };
    const [limitedWorker, heldWorker] = await Promise.all([
      scenario.startWorker(limited, env),
      scenario.startWorker(held, env),
    ]);

    const limitedLetters = deadLetterTopic(scenario.connector?.prefix ?? '', limitedName);
    await waitFor(
      'every change of the limited mapping in its dead letters',
      async () => {
        return (await lettersIn(limitedLetters)) === ROWS;
      },
      120_000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${limitedWorker.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^ferry_dynamodb_retries_exhausted_total\{table="[^"]+-limited"\} [1-9]/m);
    expect(metrics).toMatch(/^ferry_dead_letters_total\{mapping="limited-[^"]+",error="RetriesExhaustedError"\} 40$/m);
    scenario.configureCli();
    const listed = JSON.parse((await runFerry('dlq', 'list', '--mapping', limited, '--json')).out) as {
      partitions: number;
      retentionMs: string;
      byErrorClass: Array<{ errorClass: string; count: number }>;
    };
    // Created with one partition (letters in the order they failed), kept FERRY_DLQ_RETENTION_HOURS (14 days).
    expect(listed).toMatchObject({ partitions: 1, retentionMs: String(14 * 24 * 3_600_000) });
    expect(listed.byErrorClass).toEqual([
      expect.objectContaining({ errorClass: 'RetriesExhaustedError', count: ROWS }),
    ]);

    // The default holds its partition: blocked, nothing dead-lettered.
    expect(await maxBlockedSeconds(heldWorker.httpPort)).toBeGreaterThan(0);
    expect(await lettersIn(deadLetterTopic(scenario.connector?.prefix ?? '', `held-${scenario.id}`))).toBe(0);

    // The fault clears: the held partition goes on by itself, the letters are redriven.
    proxy.ratio = 0;
    await scenario.expectConverged(held, 'SELECT id, name FROM things');
    const redrive = await runFerry('dlq', 'redrive', '--mapping', limited, '--json');
    expect(redrive.code).toBe(0);
    const verified = await runFerry('verify', '--mapping', limited);
    expect(verified.code).toBe(0);
  }, 300_000);
});
