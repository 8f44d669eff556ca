import { runFerry } from '../support/cli';
import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SCHEMA,
  ACCOUNTS_SELECT,
  AccountsWorkload,
  accountsMapping,
  decodeAccount,
} from '../support/accounts-workload';
import { dropTable, kafka, scanAll } from '../support/stack';

const SIGNAL_TABLE = 'CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)';

/**
 * A topic whose oldest records are gone (retention deleted its first segments): a rebuild from
 * it would lack every row not changed since. `rebuild` says so and refuses, rebuilds what is
 * there on request, or has Debezium re-read the table first.
 */
describe('e2e > rebuilding from a topic that lost its start', () => {
  const scenario = new Scenario();
  const shadows: string[] = [];
  let mapping: string;
  let workload: AccountsWorkload;
  let worker: Awaited<ReturnType<Scenario['startWorker']>>;
  const shadow = () => {
    shadows.push(`${scenario.table}-shadow${shadows.length + 1}`);
    return shadows.at(-1) as string;
  };

  beforeAll(async () => {
    await scenario.setUp(`${ACCOUNTS_SCHEMA}; ${SIGNAL_TABLE}`);
    workload = new AccountsWorkload(scenario.db);
    await workload.insert(300);
    await scenario.startConnector('json', 'accounts', {
      // Records deleted by age (ferry's configs compact instead, and Kafka refuses DeleteRecords there).
      'topic.creation.default.cleanup.policy': 'delete',
      'topic.creation.default.retention.ms': '604800000',
      // Small chunks, so the snapshot below is read in several.
      'incremental.snapshot.chunk.size': '64',
    });
    for (let i = 0; i < 100; i++) await workload.randomChange();
    mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    scenario.configureCli();
    worker = await scenario.startWorker(mapping);
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
  }, 240_000);

  afterAll(async () => {
    await scenario.tearDown();
    await Promise.all(shadows.map((t) => dropTable(t)));
  });

  it('shows a fresh topic as complete, for as long as retention keeps its first records', async () => {
    const shown = await runFerry('offsets', 'show', '--mapping', mapping, '--json');
    expect([shown.code, shown.err]).toEqual([0, '']);
    expect(JSON.parse(shown.out)).toMatchObject({
      policy: { cleanupPolicy: 'delete', retentionMs: '604800000' },
      rebuild: { complete: true, missing: [] },
    });
    const text = await runFerry('offsets', 'show', '--mapping', mapping);
    expect(text.out).toContain('topic: cleanup.policy=delete: records older than 7 days are deleted\n');
    expect(text.out).toContain(
      'rebuild from earliest: complete (every partition starts at offset 0, after the initial snapshot), until retention deletes the first records: compact the topic to keep it so\n',
    );
  }, 60_000);

  it('refuses (exit 3) once retention has deleted the first records, naming each partition, its first offset and time', async () => {
    // Retention removes whole old segments; DeleteRecords moves the log start the same way, now.
    const admin = kafka().admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(scenario.topic());
      await admin.deleteTopicRecords({
        topic: scenario.topic(),
        partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
      });
    } finally {
      await admin.disconnect();
    }
    for (let i = 0; i < 60; i++) await workload.randomChange();
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);

    const refused = await runFerry('rebuild', '--mapping', mapping, '--table', shadow());
    expect(refused.code).toBe(3);
    expect(refused.err.split('\n')).toHaveLength(2);
    // A partition the changes since missed is empty now; the others name their first record's time.
    expect(refused.err).toMatch(
      new RegExp(
        `^ferry: the history in ${scenario.topic().replace(/\./g, '\\.')} is incomplete: partition \\d+ starts at offset [1-9]\\d* \\((its first record is from 20\\d\\d-|it is empty now\\))`,
      ),
    );
    expect(refused.err).toMatch(/ starts at offset [1-9]\d* \(its first record is from 20\d\d-/);
    expect(refused.err).toContain('Pass --snapshot');
    expect(await scanAll(shadows[0] as string).catch(() => 'no table')).toBe('no table');

    const shown = await runFerry('offsets', 'show', '--mapping', mapping);
    expect(shown.out).toMatch(/^rebuild from earliest: incomplete: partition \d+ starts at offset/m);
  }, 120_000);

  it('--accept-partial rebuilds what is there and says what is missing; verify finds the rows it lacks', async () => {
    const table = shadow();
    const partial = await runFerry('rebuild', '--mapping', mapping, '--table', table, '--accept-partial', '--json');
    expect([partial.code, partial.err]).toEqual([0, '']);
    const report = JSON.parse(partial.out) as { complete: boolean; missing: string[] };
    expect(report.complete).toBe(false);
    expect(report.missing.length).toBeGreaterThan(0);
    const verified = await runFerry('verify', '--mapping', mapping, '--table', table, '--json');
    expect(verified.code).toBe(4);
    expect((JSON.parse(verified.out) as { missing: number }).missing).toBeGreaterThan(0);
  }, 180_000);

  it('--snapshot has Debezium re-read the table first: the shadow table passes verify', async () => {
    const table = shadow();
    const rebuilt = await runFerry('rebuild', '--mapping', mapping, '--table', table, '--snapshot', '--json');
    expect([rebuilt.code, rebuilt.err]).toEqual([0, '']);
    const report = JSON.parse(rebuilt.out) as { complete: boolean; snapshot: { chunks: number; signal: string } };
    expect(report.complete).toBe(true);
    // 300 rows less the deleted, in chunks of 64.
    expect(report.snapshot.chunks).toBeGreaterThan(2);
    const verified = await runFerry('verify', '--mapping', mapping, '--table', table);
    expect([verified.code, verified.err]).toEqual([0, '']);
    // The snapshot's reads reached the live worker too, where they change nothing.
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
  }, 300_000);

  it('offsets reset --to earliest says what it cannot re-apply', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
    const reset = await runFerry('offsets', 'reset', '--mapping', mapping, '--to', 'earliest', '--dry-run');
    expect([reset.code, reset.err]).toEqual([0, '']);
    expect(reset.out).toMatch(
      /is incomplete: partition \d+ starts at offset .*: the group re-applies only what is there/,
    );
  }, 60_000);
});
