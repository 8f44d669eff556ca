import type { KafkaMessage } from 'kafkajs';
import { type AppliedMessage, type AppliedRecord, appliedTopic } from '../../src/pipeline/applied-log';
import { deadLetterTopic } from '../../src/pipeline/dead-letters';
import { topicPolicy } from '../../src/source/kafka/history';
import { readRange } from '../../src/source/kafka/read-range';
import { itemChanges } from '../../examples/cache-invalidation';
import { AccountsWorkload } from '../support/accounts-workload';
import { ACCOUNTS_SCHEMA } from '../support/accounts-workload';
import { Scenario } from '../support/scenario';
import { kafka, scanAll, waitFor } from '../support/stack';

type Read = { partition: number; message: KafkaMessage };

async function readAll(topic: string): Promise<Read[]> {
  const read: Read[] = [];
  await readRange(kafka(), {
    topic,
    onBatch: async (partition, messages) => void read.push(...messages.map((message) => ({ partition, message }))),
  });
  return read;
}

/**
 * The applied-changes log on a mixed workload with filtered rows and a mapping that throws:
 * every change is recorded once its outcome is durable, each item's records in one partition in
 * the order they were applied, and the records alone tell what DynamoDB holds.
 */
describe('e2e > applied-changes log', () => {
  const scenario = new Scenario();
  afterAll(() => scenario.tearDown());

  it('records every outcome of a mixed workload, per item in order, matching what DynamoDB holds', async () => {
    await scenario.setUp(ACCOUNTS_SCHEMA);
    const workload = new AccountsWorkload(scenario.db, undefined, 0.3);
    await workload.insert(120);
    await scenario.startConnector('json');
    const name = `applied-${scenario.id}`;
    // Team accounts are filtered out; ids ending in 7 make the mapping throw (dead letters).
    const mapping = scenario.writeMapping(
      'accounts.ts',
      `name: '${name}',
      filter: (row) => row.tier !== 'team',
      items: (row) => {
        if (row.id % 10 === 7) throw new Error('no accounts ending in 7');
        return [
          { key: { pk: \`ACCOUNT#\${row.id}\`, sk: 'PROFILE' }, item: { email: row.email, tier: row.tier } },
          { key: { pk: \`EMAIL#\${row.email}\`, sk: 'ACCOUNT' }, item: { accountId: row.id } },
        ];
      },`,
    );
    await scenario.startWorker(mapping, { FERRY_APPLIED_LOG_ENABLED: 'true', FERRY_APPLIED_LOG_RETENTION_HOURS: '48' });
    for (let i = 0; i < 10; i++) {
      await workload.transaction(6);
      for (let j = 0; j < 15; j++) await workload.randomChange();
    }

    // A last row: once its item is written, every change before it is in the source topic.
    await scenario.db.query(`INSERT INTO accounts VALUES (999999, 'last@example.com', 'free', 1.00, NOW(6))`);
    await waitFor('the last row', async () => (await scanAll(scenario.table)).some((i) => i.pk === 'ACCOUNT#999999'));

    const prefix = scenario.connector?.prefix ?? '';
    const originOf = (topic: string, partition: number, offset: string) => `${topic}/${partition}/${offset}`;
    let sourceOrigins = new Set<string>();
    type Entry = { partition: number; record: AppliedRecord; source: AppliedMessage['source'] };
    let applied: Entry[] = [];
    let messages: AppliedMessage[] = [];
    const originOfRecord = ({ source, record }: Entry) => originOf(source.topic, source.partition, record.offset);
    await waitFor(
      'a record for every change in the source topic',
      async () => {
        const source = (await readAll(scenario.topic())).filter((r) => r.message.value !== null);
        sourceOrigins = new Set(source.map((r) => originOf(scenario.topic(), r.partition, r.message.offset)));
        const read = await readAll(appliedTopic(prefix, name));
        messages = read.map(({ message }) => JSON.parse(String(message.value)) as AppliedMessage);
        applied = read.flatMap(({ partition }, i) => {
          const { source, records, mapping, table } = messages[i] as AppliedMessage;
          expect([mapping, table]).toEqual([name, scenario.table]);
          return records.map((record) => ({ partition, record, source }));
        });
        const recorded = new Set(applied.map(originOfRecord));
        return [...sourceOrigins].every((o) => recorded.has(o));
      },
      120_000,
    );
    // Nothing but the source's changes; each item's records in one partition.
    for (const entry of applied) expect(sourceOrigins.has(originOfRecord(entry))).toBe(true);
    const byItem = new Map<string, Entry[]>();
    for (const entry of applied) {
      if (entry.record.key === null) continue;
      const key = JSON.stringify(entry.record.key);
      byItem.set(key, [...(byItem.get(key) ?? []), entry]);
    }
    const outcomes = new Set(applied.map((a) => a.record.outcome));
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(['dead-lettered', 'filtered', 'written']));

    // Dead-lettered records name the letters: as many changes as the dead-letter topic holds.
    const letters = await readAll(deadLetterTopic(prefix, name));
    const deadOrigins = new Set(applied.filter((a) => a.record.outcome === 'dead-lettered').map(originOfRecord));
    expect(deadOrigins.size).toBe(letters.length);
    expect(letters.length).toBeGreaterThan(0);

    // Per item, the writes of one source row (one source partition) come in the order they were
    // applied: versions only grow. The newest write of each item is what DynamoDB holds (a put
    // with its version), or no item (a delete).
    const items = new Map(
      (await scanAll(scenario.table)).map((i) => [
        JSON.stringify({ pk: { S: String(i.pk) }, sk: { S: String(i.sk) } }),
        String(i._ferry_version),
      ]),
    );
    for (const [key, entries] of byItem) {
      expect(new Set(entries.map((e) => e.partition)).size).toBe(1);
      const writes = entries.filter((e) => e.record.outcome === 'written');
      for (const partition of new Set(writes.map((w) => w.source.partition))) {
        const versions = writes.filter((w) => w.source.partition === partition).map((w) => w.record.version as string);
        if (versions.join() !== [...versions].sort().join())
          throw new Error(`${key}: written out of order:\n${entries.map((e) => JSON.stringify(e)).join('\n')}`);
      }
    }
    // The example consumer's view: the newest write of each item is what DynamoDB holds.
    const newest = new Map<string, { operation: string; version: string }>();
    for (const change of messages.flatMap(itemChanges)) {
      const key = JSON.stringify(change.key);
      if ((newest.get(key)?.version ?? '') < change.version) newest.set(key, change);
    }
    for (const [key, { operation, version }] of newest)
      if (operation === 'put') expect([key, items.get(key)]).toEqual([key, version]);
      else expect([key, items.has(key)]).toEqual([key, false]);
    for (const key of items.keys()) expect(newest.has(key)).toBe(true);

    const admin = kafka().admin();
    await admin.connect();
    try {
      expect((await topicPolicy(admin, appliedTopic(prefix, name))).retentionMs).toBe(String(48 * 3_600_000));
      const partitions = async (topic: string) => (await admin.fetchTopicOffsets(topic)).length;
      expect(await partitions(appliedTopic(prefix, name))).toBe(await partitions(scenario.topic()));
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});
