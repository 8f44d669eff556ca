import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import { auditTopic } from '../../src/source/kafka/audit';
import { readRange } from '../../src/source/kafka/read-range';
import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import { type RunningWorker, kafka, stack, waitFor } from '../support/stack';

const SIGNAL_TABLE = 'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)';
// One row, so that the connector's snapshot creates the topic; the workload deletes it.
const TABLE =
  "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(5) NOT NULL, n INT NOT NULL); INSERT INTO t VALUES (0, 'seed', 0)";
const SELECT = 'SELECT * FROM t';

/** A mapping that copies every column: whatever the DDL does to the rows reaches the items. */
const copyMapping = (name: string, onSchemaChange: string) => `name: '${name}',
  onSchemaChange: '${onSchemaChange}',
  key: (row) => ({ pk: \`T#\${row.id}\`, sk: 'ROW' }),
  item: ({ id, ...columns }) => columns,`;

/** The workload a new user tried: rows, a column added with a default, rows, a rename, updates. */
async function alterUnderLoad(scenario: Scenario): Promise<void> {
  const insert = (from: number) =>
    scenario.db.query(
      `INSERT INTO t (id, a, n) VALUES ${Array.from({ length: 100 }, (_, i) => `(${from + i}, 'a${from + i}', ${i})`).join(',')}`,
    );
  await scenario.db.query('DELETE FROM t WHERE id = 0');
  await insert(1);
  await scenario.db.query('ALTER TABLE t ADD COLUMN b INT DEFAULT 7');
  await insert(101);
  await scenario.db.query('ALTER TABLE t CHANGE a c VARCHAR(10)');
  await scenario.db.query('UPDATE t SET n = n + 1000 WHERE id <= 10');
}

async function metric(worker: RunningWorker, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (line === undefined) throw new Error(`no ${name} ${JSON.stringify(labels)} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

const schemaLines = (worker: RunningWorker) =>
  worker
    .output()
    .split('\n')
    .filter((l) => l.includes('source schema of'));

/** Snapshots asked for (Debezium adds its own window rows to the table). */
async function signalRows(scenario: Scenario): Promise<number> {
  const [rows] = (await scenario.db.query(
    "SELECT COUNT(*) AS n FROM debezium_signal WHERE type = 'execute-snapshot'",
  )) as unknown as [Array<{ n: number }>];
  return Number(rows[0]?.n);
}

async function verify(mapping: string): Promise<{ code: number; report: Record<string, number> }> {
  const run = await runFerry('verify', '--mapping', mapping, '--json');
  return { code: run.code, report: JSON.parse(run.out) as Record<string, number> };
}

describe.each([['json'], ['avro']] as const)("e2e > schema changes under onSchemaChange 'snapshot' (%s)", (format) => {
  const scenario = new Scenario();
  let mapping: string;

  beforeAll(async () => {
    await scenario.setUp(`${TABLE}; ${SIGNAL_TABLE}`);
    await scenario.startConnector(format, 't');
    mapping = scenario.writeMapping('t.ts', copyMapping(`sc-${scenario.id}`, 'snapshot'), 't');
    scenario.configureCli();
    if (format === 'avro') process.env.FERRY_FORMAT = 'avro';
  }, 180_000);
  afterAll(async () => {
    delete process.env.FERRY_FORMAT;
    await scenario.tearDown();
  });

  it('converges with no operator action: the worker asks Debezium to re-read the table, and verify passes', async () => {
    const worker = await scenario.startWorker(mapping, {
      FERRY_FORMAT: format,
      FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`,
    });
    await alterUnderLoad(scenario);
    await scenario.expectConverged(mapping, SELECT);
    expect(await verify(mapping)).toMatchObject({ code: 0, report: { missing: 0, extra: 0, different: 0 } });
    expect(await metric(worker, 'ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(2);
    expect(await metric(worker, 'ferry_snapshots_requested_total', {})).toBe(2);
    expect(await signalRows(scenario)).toBe(2);
    const lines = schemaLines(worker);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('added b (int32, default 7)');
    expect(lines[1]).toContain('renamed a to c');
    expect(lines.every((l) => l.includes('Asked Debezium for an incremental snapshot'))).toBe(true);
  }, 240_000);
});

describe("e2e > schema changes under onSchemaChange 'alert'", () => {
  const scenario = new Scenario();
  let mapping: string;
  let worker: RunningWorker;
  const workerEnv = () => ({ FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}` });

  beforeAll(async () => {
    await scenario.setUp(`${TABLE}; ${SIGNAL_TABLE}`);
    await scenario.startConnector('json', 't');
    mapping = scenario.writeMapping('t.ts', copyMapping(`sc-${scenario.id}`, 'alert'), 't');
    scenario.configureCli();
    worker = await scenario.startWorker(mapping, workerEnv());
  }, 180_000);
  afterAll(() => scenario.tearDown());

  it('says at once which items drifted and how to fix them, raises the alert, and ferry snapshot fixes them', async () => {
    const labels = { class: 'existing rows may differ' };
    const before = await metric(worker, 'ferry_source_schema_changes_total', labels);
    await alterUnderLoad(scenario);
    // The updated rows arrive in the new shape; the other 190 items keep the shape they were written in.
    await waitFor('the 10 updates', async () => {
      const items = await scenario.actualItems();
      return [...items.values()].filter((i) => i.c !== undefined).length === 10;
    });
    const after = await metric(worker, 'ferry_source_schema_changes_total', labels);
    const snapshots = await metric(worker, 'ferry_snapshots_requested_total', {});
    // FerrySourceSchemaDrift: increase(changes{class="existing rows may differ"}) > 0 unless increase(snapshots) > 0.
    expect([before, after, snapshots]).toEqual([0, 2, 0]);
    expect(await signalRows(scenario)).toBe(0);
    const lines = schemaLines(worker);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/"level":"warn"|"level":40/);
    expect(lines[0]).toContain('existing rows may differ');
    expect(lines[0]).toContain('b was added with default 7');
    expect(lines[1]).toContain('a was renamed to c');
    expect(lines[1]).toContain(`Fix: ferry snapshot --mapping sc-${scenario.id}`);

    expect(await verify(mapping)).toMatchObject({ code: 4, report: { missing: 0, extra: 0, different: 190 } });

    const audited: Array<Record<string, unknown>> = [];
    await readRange(kafka(), {
      topic: auditTopic(scenario.connector?.prefix as string),
      onBatch: async (_p, messages) => {
        for (const m of messages) audited.push(JSON.parse(String(m.value)) as Record<string, unknown>);
      },
    });
    expect(audited.filter((a) => a.action === 'source-schema-change').map((a) => a.detail)).toEqual([
      expect.objectContaining({ class: 'existing rows may differ', reasons: ['b was added with default 7'] }),
      expect.objectContaining({ class: 'existing rows may differ', reasons: ['a was renamed to c'] }),
    ]);

    // A rebuild from the topic would drift the same way: it refuses until a snapshot has completed.
    const refused = await runFerry('rebuild', '--mapping', mapping, '--table', `${scenario.table}-shadow`);
    expect(refused.code).toBe(3);
    expect(refused.err).toContain(`the source schema of ${scenario.database}.t changed at `);
    expect(refused.err).toContain('(a was renamed to c): rows not changed since are in the topic as they were before');

    const snapshot = await runFerry('snapshot', '--mapping', mapping);
    expect([snapshot.code, snapshot.err]).toEqual([0, '']);
    await scenario.expectConverged(mapping, SELECT);
    expect(await verify(mapping)).toMatchObject({ code: 0, report: { different: 0 } });
    await waitFor('the history to be whole again', async () => {
      const shown = await runFerry('offsets', 'show', '--mapping', mapping, '--json');
      return (JSON.parse(shown.out) as { rebuild: { complete: boolean } }).rebuild.complete;
    });
  }, 240_000);

  it('mapping test and mapping diff read events of every schema and say what each change does to a mapping', async () => {
    // The topic's events in source order, as a developer captures them.
    const events: Array<{ version: string; line: string }> = [];
    const decoder = new JsonEnvelopeDecoder();
    await readRange(kafka(), {
      topic: scenario.topic('t'),
      onBatch: async (partition, messages) => {
        for (const m of messages) {
          const decoded = await decoder.decode(m.value, { topic: scenario.topic('t'), partition, offset: m.offset });
          if (decoded.kind === 'change')
            events.push({ version: decoded.event.position.version, line: String(m.value) });
        }
      },
    });
    events.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
    const file = join(scenario.dir, 'events.jsonl');
    writeFileSync(file, events.map((e) => e.line).join('\n'));
    const tested = await runFerry('mapping', 'test', mapping, file);
    expect(tested.code).toBe(0);
    expect(tested.out.split('\n').filter((l) => l.includes('the source schema changed'))).toEqual([
      expect.stringMatching(
        /^line \d+: the source schema changed \(added b \(int32, default 7\)\): existing rows may differ: b was added with default 7$/,
      ),
      expect.stringMatching(
        /^line \d+: the source schema changed \(renamed a to c\): existing rows may differ: a was renamed to c$/,
      ),
    ]);

    const next = scenario.writeMapping(
      'next.ts',
      `name: 'sc-${scenario.id}',
  key: (row) => ({ pk: \`T#\${row.id}\`, sk: 'ROW' }),
  item: (row) => ({ a: row.a, n: row.n }),`,
      't',
    );
    const diffed = await runFerry('mapping', 'diff', '--mapping', mapping, '--new', next, '--json');
    expect([diffed.code, diffed.err]).toEqual([0, '']);
    expect((JSON.parse(diffed.out) as { schemaChanges: unknown[] }).schemaChanges).toEqual([
      {
        changes: 'added b (int32, default 7)',
        current: { class: 'existing rows may differ', reasons: ['b was added with default 7'] },
        new: { class: 'harmless', reasons: [] },
      },
      {
        changes: 'renamed a to c',
        current: { class: 'existing rows may differ', reasons: ['a was renamed to c'] },
        new: { class: 'mapping breaks', reasons: ['a was renamed to c'] },
      },
    ]);
  }, 120_000);

  it('after a restart, reports nothing old again, and reports a change made while it was down', async () => {
    await worker.stop();
    const restarted = await scenario.startWorker(mapping, workerEnv());
    await scenario.db.query('UPDATE t SET n = n + 1 WHERE id = 20');
    await scenario.expectConverged(mapping, SELECT);
    expect(schemaLines(restarted)).toEqual([]);
    expect(await metric(restarted, 'ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(0);

    await restarted.stop();
    await scenario.db.query('ALTER TABLE t ADD COLUMN d INT DEFAULT 1');
    await scenario.db.query('UPDATE t SET n = n + 1 WHERE id = 21');
    const resumed = await scenario.startWorker(mapping, workerEnv());
    await waitFor('the change made while it was down', async () => schemaLines(resumed).length === 1);
    expect(schemaLines(resumed)[0]).toContain('added d (int32, default 1)');
    expect(await metric(resumed, 'ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(1);
  }, 240_000);
});

describe('e2e > schema changes to columns the mapping reads, or not', () => {
  const scenario = new Scenario();
  let mapping: string;
  let worker: RunningWorker;

  beforeAll(async () => {
    await scenario.setUp(`${TABLE}; ${SIGNAL_TABLE}; INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2)`);
    await scenario.startConnector('json', 't');
    mapping = scenario.writeMapping(
      't.ts',
      `name: 'sc-${scenario.id}',
  onSchemaChange: 'snapshot',
  key: (row) => ({ pk: \`T#\${row.id}\`, sk: 'ROW' }),
  item: (row) => ({ a: row.a.toUpperCase(), n: row.n }),`,
      't',
    );
    scenario.configureCli();
    worker = await scenario.startWorker(mapping, {
      FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`,
    });
    await scenario.expectConverged(mapping, SELECT);
  }, 180_000);
  afterAll(() => scenario.tearDown());

  it('a column it does not read, added: harmless, no alert, no snapshot', async () => {
    await scenario.db.query("ALTER TABLE t ADD COLUMN note VARCHAR(20) DEFAULT 'x'");
    await scenario.db.query('INSERT INTO t VALUES (3, "three", 3, "y")');
    await scenario.expectConverged(mapping, SELECT);
    await waitFor('the change logged', async () => schemaLines(worker).length === 1);
    expect(schemaLines(worker)[0]).toContain('harmless to mapping');
    expect(await metric(worker, 'ferry_source_schema_changes_total', { class: 'harmless' })).toBe(1);
    expect(await metric(worker, 'ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(0);
    expect(await metric(worker, 'ferry_snapshots_requested_total', {})).toBe(0);
    expect(await signalRows(scenario)).toBe(0);
  }, 120_000);

  it('a column it reads, dropped: "mapping breaks", said before the first dead letter, and no snapshot', async () => {
    await scenario.db.query('ALTER TABLE t DROP COLUMN a');
    await scenario.db.query('UPDATE t SET n = n + 1');
    await waitFor('the dead letters', async () => worker.output().includes('change sent to the dead letters'));
    const lines = worker.output().split('\n');
    const broke = lines.findIndex((l) => l.includes('breaks, as a was dropped'));
    const firstLetter = lines.findIndex((l) => l.includes('change sent to the dead letters'));
    expect(broke).toBeGreaterThanOrEqual(0);
    expect(broke).toBeLessThan(firstLetter);
    expect(lines[broke]).toContain('Fix the mapping and deploy it, redrive the dead letters');
    expect(await metric(worker, 'ferry_source_schema_changes_total', { class: 'mapping breaks' })).toBe(1);
    expect(await metric(worker, 'ferry_snapshots_requested_total', {})).toBe(0);
    expect(await signalRows(scenario)).toBe(0);
  }, 120_000);

  it("warns at start when onSchemaChange 'snapshot' cannot reach the signalling table, and still runs", async () => {
    const misconfigured = await scenario.startWorker(mapping, {
      FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`,
      FERRY_SOURCE_SIGNAL_TABLE: 'no_such_signals',
      FERRY_KAFKA_GROUP_ID: `other-${scenario.id}`,
    });
    expect(misconfigured.output()).toContain(
      `onSchemaChange is 'snapshot', but the worker cannot reach Debezium's signalling table now: ConfigError: source table ${scenario.database}.no_such_signals not found`,
    );
    await misconfigured.stop();
  }, 120_000);
});
