import { Scenario } from '../support/scenario';
import { scanAll, waitFor } from '../support/stack';

/** A connector that flattens events (ExtractNewRecordState) must not lose a table silently. */
describe('e2e > a topic without the Debezium envelope', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('dead-letters every flattened change, naming the transform, and logs the first at error level', async () => {
    await scenario.setUp(
      "CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    );
    await scenario.startConnector('json', 'things', {
      transforms: 'unwrap',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
      // Without embedded schemas a flattened row is a bare JSON object, which used to pass for a heartbeat.
      'value.converter.schemas.enable': 'false',
    });
    const mapping = scenario.writeMapping(
      'things.ts',
      `name: 'things-${scenario.id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
    );
    const worker = await scenario.startWorker(mapping);
    const letters = async () =>
      Number(
        /^ferry_dead_letters_total\{[^}]*error="DecodeError"\} (\S+)$/m.exec(
          await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    await waitFor('3 dead letters', async () => (await letters()) === 3, 60_000);
    expect(await scanAll(scenario.table)).toEqual([]);
    const first = worker
      .output()
      .split('\n')
      .find((l) => l.includes('change sent to the dead letters'));
    expect(JSON.parse(first as string)).toMatchObject({
      level: 50,
      errorClass: 'DecodeError',
      error: expect.stringContaining('ExtractNewRecordState (unwrap)'),
    });
  }, 180_000);
});
