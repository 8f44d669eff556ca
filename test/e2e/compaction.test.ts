import { runFerry } from '../support/cli';
import { EAGER_COMPACTION, alterTopicConfig, keyId, loneTombstones, topicRecords } from '../support/compaction';
import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SCHEMA,
  ACCOUNTS_SELECT,
  AccountsWorkload,
  accountsMapping,
  decodeAccount,
  startAccounts,
} from '../support/accounts-workload';
import { type RunningWorker, dropTable, kafka, scanAll, waitFor } from '../support/stack';
import { groupOffsets } from '../../src/source/kafka/offsets';

const metricsOf = async (worker: RunningWorker) => (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
const series = (metrics: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the group has processed everything the topic holds now. */
async function caughtUp(group: string, topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await waitFor(`group ${group} to reach the end of ${topic}`, async () =>
      (await groupOffsets(admin, group, topic)).every((p) => p.lag === 0),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Change topics are compacted (cleanup.policy=compact, with 7 days before a delete event may
 * go). Here compaction is forced at once, so that what a long-lagging worker or a replay would
 * meet happens in seconds: ferry stays exact, and a delete compacted away unread is found.
 */
describe('e2e > compacted topics', () => {
  describe('ferry is exact on a compacted topic', () => {
    const scenario = new Scenario();
    const shadow = `${scenario.table}-shadow`;
    let workload: AccountsWorkload;
    let mapping: string;
    let worker: RunningWorker;

    beforeAll(async () => {
      workload = await startAccounts(scenario, 300);
      mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
      scenario.configureCli();
      worker = await scenario.startWorker(mapping);
      for (let i = 0; i < 20; i++) {
        await workload.transaction(6);
        for (let j = 0; j < 10; j++) await workload.randomChange();
      }
      scenario.outputs.push(`workload: ${workload.changes} changes`);
      await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
    }, 300_000);

    afterAll(async () => {
      await scenario.tearDown();
      await dropTable(shadow);
    });

    it('compacts the topic: fewer records than its end offsets, every partition still starting at 0, tombstones left alone', async () => {
      const topic = scenario.topic();
      const before = await topicRecords(topic);
      expect(BigInt(before.records.length)).toBe(before.end);
      expect(loneTombstones(before.records)).toEqual([]);

      await alterTopicConfig(topic, EAGER_COMPACTION);
      await sleep(1500);
      // New records close every partition's segment; the cleaner then compacts the closed ones.
      await workload.insert(60);
      let after = before;
      await waitFor(
        'the log cleaner to compact the topic',
        async () => {
          after = await topicRecords(topic);
          return BigInt(after.records.length) < after.end && loneTombstones(after.records).length > 0;
        },
        120_000,
      );
      scenario.outputs.push(`compacted: ${after.records.length} records held of ${after.end}`);
      expect(after.starts.every((start) => start === '0')).toBe(true);
      await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
    }, 180_000);

    it('rebuilds from it into a shadow table that passes verify', async () => {
      const rebuilt = await runFerry('rebuild', '--mapping', mapping, '--table', shadow, '--json');
      expect({ code: rebuilt.code, err: rebuilt.err }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(rebuilt.out)).toMatchObject({ complete: true });
      const verified = await runFerry('verify', '--mapping', mapping, '--table', shadow);
      expect({ code: verified.code, err: verified.err }).toEqual({ code: 0, err: '' });
    }, 240_000);

    it('replays it from earliest into the live table: verify passes, and no delete is reported lost', async () => {
      expect(await worker.stop('SIGTERM')).toBe(0);
      const reset = await runFerry('offsets', 'reset', '--mapping', mapping, '--to', 'earliest');
      expect({ code: reset.code, err: reset.err }).toEqual({ code: 0, err: '' });
      const replaying = await scenario.startWorker(mapping);
      await caughtUp(`ferry.accounts-${scenario.id}`, scenario.topic());
      const verified = await runFerry('verify', '--mapping', mapping);
      expect({ code: verified.code, err: verified.err }).toEqual({ code: 0, err: '' });
      await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);

      const metrics = await metricsOf(replaying);
      const name = `accounts-${scenario.id}`;
      expect(series(metrics, 'ferry_lost_deletes_total', `mapping="${name}",table="${scenario.table}"`)).toBe(0);
      // Its email items are keyed by a column the Kafka key lacks: the replay's lone tombstones cannot be checked, and say so.
      expect(
        series(metrics, 'ferry_lone_tombstones_total', `mapping="${name}",outcome="key-not-derivable"`),
      ).toBeGreaterThan(0);
      expect(replaying.output()).not.toContain('lost delete');
      expect(replaying.output()).toContain('"reason":"the mapping\'s key reads column \\"email\\"');
    }, 240_000);
  });

  describe('a delete compacted away before the worker read it is detected', () => {
    const scenario = new Scenario();
    const name = `profiles-${scenario.id}`;
    const deleted: number[] = [];
    let workload: AccountsWorkload;
    let mapping: string;
    let worker: RunningWorker;
    const lostLines = () =>
      worker
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"lost delete'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; key: { pk: string }; offset: string });

    beforeAll(async () => {
      await scenario.setUp(ACCOUNTS_SCHEMA);
      workload = new AccountsWorkload(scenario.db);
      await workload.insert(40);
      await scenario.startConnector('json');
      // One item per row, keyed by the primary key alone: a tombstone's key says which item.
      mapping = scenario.writeMapping(
        'profiles.ts',
        `name: '${name}',
  key: (row) => ({ pk: \`ACCOUNT#\${row.id}\`, sk: 'PROFILE' }),
  item: (row) => ({ email: row.email, tier: row.tier, balance: row.balance, updatedAt: row.updated_at }),`,
      );
      scenario.configureCli();
      worker = await scenario.startWorker(mapping);
      await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
      expect(await worker.stop('SIGTERM')).toBe(0);
    }, 240_000);

    afterAll(() => scenario.tearDown());

    it('keeps only the tombstones of rows deleted while the worker was stopped, once compaction has run', async () => {
      const topic = scenario.topic();
      deleted.push(...workload.ids.slice(0, 6));
      await scenario.db.query(`DELETE FROM accounts WHERE id IN (${deleted.join(',')})`);
      await waitFor('Debezium to capture the deletes', async () => {
        const { records } = await topicRecords(topic);
        return deleted.every((id) => records.some((r) => r.value === null && keyId(r.key) === id));
      });

      await alterTopicConfig(topic, EAGER_COMPACTION);
      await sleep(1500);
      // Records after the segment time close the segments holding the deletes.
      await scenario.db.query('UPDATE accounts SET updated_at = NOW(6)');
      await workload.insert(40);
      let nudged = Date.now();
      await waitFor(
        'compaction to drop the delete events and keep their tombstones',
        async () => {
          const { records } = await topicRecords(topic);
          const lone = new Set(loneTombstones(records).map((r) => keyId(r.key)));
          const events = records.filter((r) => r.value !== null && deleted.includes(keyId(r.key)));
          if (deleted.every((id) => lone.has(id)) && events.length === 0) return true;
          // A partition that got no new record keeps its segment open: give every partition one more.
          if (Date.now() - nudged > 30_000) {
            await workload.insert(24);
            nudged = Date.now();
          }
          return false;
        },
        150_000,
      );
    }, 240_000);

    it('the worker reports each lost delete once, with the item, the cause and the fix, counts it, and deletes nothing', async () => {
      worker = await scenario.startWorker(mapping);
      await caughtUp(`ferry.${name}`, scenario.topic());
      const lines = lostLines();
      expect(lines.map((l) => l.key.pk).sort()).toEqual(deleted.map((id) => `ACCOUNT#${id}`).sort());
      for (const line of lines) {
        expect(line.level).toBe(50);
        expect(line.msg).toContain(
          `is still in ${scenario.table}: only the row's tombstone is left, at ${scenario.topic()}[`,
        );
        expect(line.msg).toContain("the worker lagged more than the topic's min.compaction.lag.ms");
        expect(line.msg).toContain(`Fix: ferry verify --mapping ${name} --repair`);
      }
      const metrics = await metricsOf(worker);
      expect(series(metrics, 'ferry_lost_deletes_total', `mapping="${name}",table="${scenario.table}"`)).toBe(
        deleted.length,
      );
      expect(series(metrics, 'ferry_lone_tombstones_total', `mapping="${name}",outcome="lost-delete"`)).toBe(
        deleted.length,
      );
      const held = new Set((await scanAll(scenario.table)).map((item) => item.pk));
      for (const id of deleted) expect(held.has(`ACCOUNT#${id}`)).toBe(true);
    }, 120_000);

    it('verify finds them, --repair deletes them, and verify then passes', async () => {
      const found = await runFerry('verify', '--mapping', mapping, '--json');
      expect(found.code).toBe(4);
      const report = JSON.parse(found.out) as { extra: number; missing: number; different: number };
      expect(report).toMatchObject({ extra: deleted.length, missing: 0, different: 0 });
      const repaired = await runFerry('verify', '--mapping', mapping, '--repair', '--json');
      expect(JSON.parse(repaired.out)).toMatchObject({ repaired: { deleted: deleted.length } });
      const clean = await runFerry('verify', '--mapping', mapping);
      expect({ code: clean.code, err: clean.err }).toEqual({ code: 0, err: '' });
      await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
    }, 120_000);

    it('a replay from earliest finds no item for those tombstones, and reports nothing', async () => {
      expect(await worker.stop('SIGTERM')).toBe(0);
      const reset = await runFerry('offsets', 'reset', '--mapping', mapping, '--to', 'earliest');
      expect(reset.code).toBe(0);
      worker = await scenario.startWorker(mapping);
      await caughtUp(`ferry.${name}`, scenario.topic());
      const metrics = await metricsOf(worker);
      expect(series(metrics, 'ferry_lost_deletes_total', `mapping="${name}",table="${scenario.table}"`)).toBe(0);
      expect(
        series(metrics, 'ferry_lone_tombstones_total', `mapping="${name}",outcome="no-item"`),
      ).toBeGreaterThanOrEqual(deleted.length);
      expect(lostLines()).toEqual([]);
      const verified = await runFerry('verify', '--mapping', mapping);
      expect({ code: verified.code, err: verified.err }).toEqual({ code: 0, err: '' });
    }, 120_000);
  });
});
