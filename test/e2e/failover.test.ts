import { Scenario } from '../support/scenario';
import { kafka, maxBlockedSeconds, readTopic, scanAll, waitFor } from '../support/stack';

interface Envelope {
  payload: { after: Record<string, unknown>; source: { file: string; pos: number; gtid: string; ts_ms: number } };
}

/**
 * A source that fails over: MariaDB's promoted replica carries the GTID domain's numbering on,
 * in binlog files of its own. The local stack has one server, so the promoted server's first
 * change is Debezium's real event for the row with the `source` block such a server gives
 * (a later GTID of domain 0 from another server id, at the start of binlog file 1), put on the
 * row's partition between two real changes, while the worker runs or while it restarts. It must
 * hold the partition, loudly, and write nothing from there on: not the failover's change, which
 * would otherwise be dropped as stale everywhere its item is newer, nor the real change after it.
 */
describe('e2e > a source that fails over', () => {
  const scenarios: Scenario[] = [];
  afterAll(() => Promise.all(scenarios.map((s) => s.tearDown())));

  it.each([
    ['while the worker runs', false],
    // The new worker starts from the partition's read that the first one kept.
    ['across a worker restart between the two servers’ changes', true],
  ])(
    'holds the row’s partition at the promoted server’s first change, naming its GTID: %s',
    async (_, restart) => {
      const scenario = new Scenario();
      scenarios.push(scenario);
      const mapping = await scenario.startThings();
      let worker = await scenario.startWorker(mapping);
      const nameOf = async () => (await scanAll(scenario.table)).find((i) => i.pk === 'T#1')?.name;
      await scenario.db.query(`UPDATE things SET name = 'two' WHERE id = 1`);
      await waitFor('the update', async () => (await nameOf()) === 'two');
      if (restart) await worker.stop();

      const [, update] = await readTopic(scenario.topic('things'), 2);
      const promoted = JSON.parse(String(update?.value)) as Envelope;
      const { source } = promoted.payload;
      const [domain, , sequence] = source.gtid.split('-');
      source.gtid = `${domain}-2-${Number(sequence) + 1000}`;
      source.file = source.file.replace(/\.\d+$/, '.000001');
      source.pos = 4;
      source.ts_ms += 5_000;
      promoted.payload.after.name = 'promoted';
      const producer = kafka().producer();
      await producer.connect();
      await producer.send({
        topic: scenario.topic('things'),
        messages: [{ key: update?.key ?? null, value: JSON.stringify(promoted), partition: update?.partition }],
      });
      await producer.disconnect();
      await scenario.db.query(`UPDATE things SET name = 'three' WHERE id = 1`);
      if (restart) worker = await scenario.startWorker(mapping);

      await waitFor('the partition to be held', async () => (await maxBlockedSeconds(worker.httpPort)) > 0, 60_000);
      await waitFor('the warning', async () => worker.output().includes('source failed over'), 30_000);
      const line = worker
        .output()
        .split('\n')
        .find((l) => l.includes('source failed over'));
      expect(JSON.parse(line as string)).toMatchObject({
        level: 50,
        error: expect.stringMatching(
          new RegExp(
            `is a new change \\(transaction ${domain}-2-${Number(sequence) + 1000}\\).*take a new snapshot`,
            'i',
          ),
        ),
      });
      // Held, not skipped: ten seconds on, the item is still the change before the failover.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      expect(await nameOf()).toBe('two');
      expect(await maxBlockedSeconds(worker.httpPort)).toBeGreaterThan(5);
    },
    240_000,
  );
});
