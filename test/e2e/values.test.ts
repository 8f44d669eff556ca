import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { countedEvents, scanAll, waitFor } from '../support/stack';
import { valueRoundTrip } from '../support/value-round-trip';

/**
 * Generated rows of every column type, edges included, through the real connector and worker:
 * each change is written exactly or is a dead letter naming the column; verify agrees.
 * A failure prints its seed: FERRY_FUZZ_SEED=<seed> reruns the same rows (npm run fuzz runs longer).
 */
describe('e2e > values real tables hold', () => {
  const seed = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31);
  it.each(['json', 'avro'] as const)(
    `round-trips generated rows exactly in %s, refusing only numbers DynamoDB cannot hold (seed ${seed})`,
    async (format) => {
      const report = await valueRoundTrip({ rows: 120, seed, format });
      for (const mode of ['error', 'string'] as const) {
        const m = report.modes[mode];
        expect({ mode, seed, mismatches: m.mismatches }).toEqual({ mode, seed, mismatches: [] });
        expect({ mode, seed, letters: m.letterMismatches }).toEqual({ mode, seed, letters: [] });
        expect({ mode, seed, verifyExamples: m.verifyExamples }).toEqual({ mode, seed, verifyExamples: [] });
        expect({ mode, seed, verify: m.verify }).toEqual({
          mode,
          seed,
          // Kept as text, nothing is refused: verify finds only what a snapshot read wrong (a YEAR 0000 as 2000).
          verify: {
            code: mode === 'string' ? (m.expectedVerify.different > 0 ? 4 : 0) : m.verify.code,
            ...m.expectedVerify,
          },
        });
        expect(m.blockedPartitions).toBe(0);
      }
      expect(report.modes.string.deadLetters).toBe(0);
    },
    300_000,
  );
});

/**
 * A table created after the connector started: Debezium types its columns from the CREATE TABLE
 * it parsed in the binlog, not from SHOW CREATE TABLE as in a snapshot. A BOOLEAN then arrives as
 * true/false and FLOAT(M,D) as the stored 32-bit value in a double: ferry gives them as a
 * snapshot and a SELECT show them, and verify agrees. A row whose newest change cannot be an
 * item is unmappable, and the item its older version left is not extra.
 */
describe('e2e > values of a table the connector learned from its DDL', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('carries BOOLEAN, FLOAT(M,D), FLOAT(p) and POINT as the server shows them; verify finds nothing else', async () => {
    const { id, table } = scenario;
    await scenario.setUp('CREATE TABLE seed (id INT PRIMARY KEY); INSERT INTO seed VALUES (1)');
    await scenario.startConnector('json', 'seed');
    await scenario.db.query(`CREATE TABLE vals (id INT PRIMARY KEY, b BOOLEAN NOT NULL, b2 BOOL, f FLOAT(10,3),
      f10 FLOAT(10), f30 FLOAT(30), p POINT, d DOUBLE, fu FLOAT(10,3) UNSIGNED)`);
    await scenario.db.query(`INSERT INTO vals VALUES
      (1, TRUE, FALSE, 0.1, 1234567.125, 1234567.125, ST_GeomFromText('POINT(1.5 -2.25)'), 1, 0.1),
      (2, FALSE, NULL, '524288.063', 0.1, 0.1, NULL, 2, 2.5),
      (3, TRUE, TRUE, -0.0625, -3.4e38, 2.5, ST_GeomFromText('POINT(0 0)'), 3, 0)`);
    // Row 3's newest change cannot be an item (a DynamoDB Number ends at 9.99E+125): its item stays as it was.
    await scenario.db.query('UPDATE vals SET d = 1e300 WHERE id = 3');
    const mapping = scenario.writeMapping(
      'vals.ts',
      `name: 'vals-${id}', key: (row) => ({ pk: 'V#' + row.id, sk: 'V' }), item: (row) => ({ ...row }),`,
      'vals',
    );
    const worker = await scenario.startWorker(mapping);
    await waitFor(`table ${table} to hold 3 items`, async () => (await scanAll(table)).length === 3, 90_000);
    await waitFor(
      'the dead letter of row 3',
      async () => (await countedEvents(worker.httpPort))['dead-lettered'] === 1,
    );
    const items = Object.fromEntries((await scanAll(table)).map((i) => [i.id as number, i]));
    const number = (v: unknown) => Number(String(v));
    expect([items[1]?.b, items[1]?.b2, items[2]?.b, items[2]?.b2, items[3]?.b2].map(number)).toEqual([1, 0, 0, NaN, 1]);
    // FLOAT(10,3): 0.1, 524288.0625 as the server shows it (.062), -0.0625 stored as -0.062.
    expect([items[1]?.f, items[2]?.f, items[3]?.f].map(number)).toEqual([0.1, 524288.062, -0.062]);
    expect([items[1]?.fu, items[2]?.fu].map(number)).toEqual([0.1, 2.5]);
    // FLOAT(10) is a FLOAT (six digits), FLOAT(30) a DOUBLE.
    expect([items[1]?.f10, items[2]?.f10, items[1]?.f30].map(number)).toEqual([1234570, 0.1, 1234567.125]);
    const point = items[1]?.p as { x: unknown; y: unknown; srid: unknown };
    expect([number(point.x), number(point.y), point.srid]).toEqual([1.5, -2.25, null]);

    scenario.configureCli();
    const verified = await runFerry('verify', '--mapping', mapping);
    expect(verified.out).toMatch(/3 source rows .* -> 2 items; 0 missing, 0 extra, 0 different, 1 unmappable/);
  }, 300_000);
});

/**
 * A change event over Kafka's 1 MB default: an update carries the row twice. The connector
 * config ferry prints lets Connect send it and the topic take it, where it stopped the connector
 * (RecordTooLargeException), and with it every table of the database.
 */
describe('e2e > a change event over 1 MB', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('is carried: the connector keeps running and the mapping writes what it takes of the row', async () => {
    const { id, table } = scenario;
    await scenario.setUp(`CREATE TABLE docs (id INT PRIMARY KEY, title VARCHAR(20), body MEDIUMTEXT);
      INSERT INTO docs VALUES (1, 'snap', REPEAT('a', 700000))`);
    await scenario.startConnector('json', 'docs');
    const mapping = scenario.writeMapping(
      'docs.ts',
      `name: 'docs-${id}', key: (row) => ({ pk: 'D#' + row.id, sk: 'D' }), item: (row) => ({ title: row.title, size: row.body.length }),`,
      'docs',
    );
    await scenario.startWorker(mapping);
    // Before and after together: 1.6 MB of JSON in one event.
    await scenario.db.query("UPDATE docs SET title = 'long', body = REPEAT('b', 900000) WHERE id = 1");
    await scenario.db.query("INSERT INTO docs VALUES (2, 'after', 'c')");
    await waitFor(
      `table ${table} to hold both rows as they are now`,
      async () => {
        const failure = await scenario.connectorFailure();
        if (failure) throw new Error(`the connector failed: ${failure.slice(0, 400)}`);
        const items = await scanAll(table);
        return items.some((i) => i.title === 'long' && Number(i.size) === 900000) && items.length === 2;
      },
      90_000,
    );
    scenario.configureCli();
    const verified = await runFerry('verify', '--mapping', mapping);
    expect(verified.out).toMatch(/2 source rows .* -> 2 items; 0 missing, 0 extra, 0 different, 0 unmappable/);
  }, 300_000);
});
