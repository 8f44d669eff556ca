import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/config';
import type { AttributeMap } from '../../src/core/write-intent';
import { prepareMappedItem } from '../../src/mapping/apply-mapping';
import { loadMapping } from '../../src/mapping/load-mapping';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { SEGMENT_ITEMS } from '../../src/verify/reconcile';
import { connectSource, describeTable, readTable } from '../../src/verify/source-reader';
import { runFerry } from '../support/cli';
import { fakePushgateway, samples } from '../support/pushgateway';
import { Scenario } from '../support/scenario';
import { countItems, countedEvents, dropTable, dynamoDb, kafka, waitFor } from '../support/stack';

const ROWS = Number(process.env.FERRY_VERIFY_ROWS ?? 50_000);

/**
 * verify compares exactly what the writer writes: on 50,000 rows with NULLs mapped to "no
 * attribute", numbers of every representation, binary and sets, it reports exactly the injected
 * divergence, repairs it, and then reports none. Extra items are found by a parallel scan whose
 * keys are traced back to source rows (the `I#{id}` template), not by remembering every key.
 */
describe('e2e > verify at scale', () => {
  const scenario = new Scenario();
  const ddb = dynamoDb().raw;
  let mapping: string;

  beforeAll(async () => {
    await scenario.setUp(`
      CREATE TABLE items (id INT PRIMARY KEY, n_int INT, n_big BIGINT, n_dec DECIMAL(30,8), n_dbl DOUBLE, n_flt FLOAT,
        note VARCHAR(40) NULL, bin VARBINARY(16), tags SET('red','green','blue'));
      INSERT INTO items SELECT seq, CAST(seq AS SIGNED) - 25000, seq * 1000000000007, (CAST(seq AS SIGNED) - 20000) / 7,
        seq * 1.0e16 / 3, seq / 9,
        IF(seq % 7 = 0, NULL, CONCAT('note ', seq)), LEFT(UNHEX(SHA2(seq, 256)), seq % 17), ELT(1 + seq % 4, '', 'red', 'green,blue', 'red,green,blue')
      FROM seq_1_to_${ROWS};`);
    await scenario.startConnector('json', 'items');
    mapping = scenario.writeMapping(
      'items.ts',
      `name: 'items-${scenario.id}',
  key: (row) => ({ pk: 'I#' + row.id, sk: 'ITEM' }),
  item: (row) => ({
    n_int: row.n_int, n_big: row.n_big, n_dec: row.n_dec, n_dbl: row.n_dbl, n_flt: row.n_flt,
    note: row.note ?? undefined,
    bin: row.bin,
    tags: row.tags.length > 0 ? new Set(row.tags) : undefined,
  }),`,
      'items',
    );
    const worker = await scenario.startWorker(mapping);
    // The worker's own count, not a scan: scanning 50,000 items every few seconds slows DynamoDB Local down.
    let counted: Record<string, number> = {};
    await waitFor(
      `${ROWS} changes counted by the worker`,
      async () => Object.values((counted = await countedEvents(worker.httpPort))).reduce((a, b) => a + b, 0) >= ROWS,
      400_000,
      2000,
    ).catch(async (err: Error) => {
      // Which side was slow: Debezium's snapshot (messages in the topic) or the worker.
      const admin = kafka().admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(scenario.topic('items')).catch(() => []);
      await admin.disconnect();
      const inTopic = offsets.reduce((sum, o) => sum + Number(o.high), 0);
      throw new Error(
        `${err.message} (${JSON.stringify(counted)}; ${inTopic} messages in the topic)\n--- worker ---\n${worker.output().slice(-3000)}`,
      );
    });
    expect(Object.keys(counted)).toEqual(['written']);
    expect(await countItems(scenario.table)).toBe(ROWS);
    await worker.stop();
    scenario.configureCli();
  }, 500_000);
  afterAll(() => scenario.tearDown());

  const verify = async (...args: string[]) => {
    const { code, out, err } = await runFerry('verify', '--mapping', mapping, '--json', ...args);
    if (code !== 0 && code !== 4) throw new Error(`verify exited ${code}: ${err}`);
    return {
      code,
      report: JSON.parse(out) as Record<string, number> & {
        repaired?: Record<string, number>;
        examples: Array<{ kind: string; key: { pk: string; sk: string } }>;
        extraCheck?: { scanned: number; segments: number; keyTemplates: string[]; keysHeldInMemory: number };
      },
    };
  };

  it('finds nothing on a table the worker wrote: NULL as a missing attribute is what the writer writes', async () => {
    const { code, report } = await verify();
    expect(report).toMatchObject({ sourceRows: ROWS, missing: 0, extra: 0, different: 0, unmappable: 0 });
    // Every key traced back through the primary key: nothing held in memory.
    expect(report.extraCheck).toEqual({
      scanned: ROWS,
      segments: Math.max(4, Math.ceil(ROWS / SEGMENT_ITEMS)),
      keyTemplates: ['pk="I#{id}" sk="ITEM"'],
      keysHeldInMemory: 0,
      untraced: 0,
    });
    expect(code).toBe(0);
  }, 120_000);

  it('reports exactly the injected missing, extra and changed items, repairs them, then reports none', async () => {
    const key = (id: number) => ({ pk: { S: `I#${id}` }, sk: { S: 'ITEM' } });
    for (const id of [7, Math.floor(ROWS / 4), ROWS - 1])
      await ddb.send(new DeleteItemCommand({ TableName: scenario.table, Key: key(id) }));
    // Extras of every kind, enough to land in several of the scan's segments: ids with no row,
    // a key of a row's id the mapping never makes, and keys of no shape the mapping makes.
    const extras = [
      ...[1, 2, 3, 4, 5, 6].map((n) => key(ROWS + n)),
      ...[10, 20, 30].map((id) => ({ pk: { S: `I#${id}` }, sk: { S: 'OTHER' } })),
      ...['x', 'I#', 'I#0042'].map((pk) => ({ pk: { S: pk }, sk: { S: 'ITEM' } })),
    ];
    for (const extra of extras)
      await ddb.send(new PutItemCommand({ TableName: scenario.table, Item: { ...extra, n_int: { N: '1' } } }));
    const changes = [
      'SET n_dec = :v',
      'SET note = :s', // a NULL note (id 14) that gained an attribute
      'SET n_flt = :v',
      'REMOVE tags',
    ];
    const ids = [3, 14, Math.floor(ROWS / 2), Math.floor(ROWS * 0.6) + 1];
    for (const [i, update] of changes.entries())
      await ddb.send(
        new UpdateItemCommand({
          TableName: scenario.table,
          Key: key(ids[i] as number),
          UpdateExpression: update,
          ExpressionAttributeValues: update.includes(':v')
            ? { ':v': { N: '1.5' } }
            : update.includes(':s')
              ? { ':s': { S: 'x' } }
              : undefined,
        }),
      );

    // The result pushed to a Pushgateway is the report's.
    const gateway = await fakePushgateway();
    const group = `/metrics/job/ferry-verify/mapping/items-${scenario.id}`;
    const labels = `mapping="items-${scenario.id}"`;
    const tableLabels = `${labels},table="${scenario.table}"`;
    try {
      const found = await verify('--segments', '8', '--pushgateway', gateway.url, '--schedule', '0 3 * * *');
      expect(found.code).toBe(4);
      expect(found.report).toMatchObject({ missing: 3, extra: extras.length, different: 4, unmappable: 0 });
      expect(found.report.extraCheck).toMatchObject({ scanned: ROWS - 3 + extras.length, segments: 8 });
      expect(gateway.pushes.map((p) => [p.method, p.path])).toEqual([['PUT', group]]);
      expect(samples(gateway.pushes[0]?.body as string)).toMatchObject({
        [`ferry_verify_divergence_ratio{${tableLabels}}`]: found.report.divergenceRatio,
        [`ferry_verify_max_divergence_ratio{${labels}}`]: 0,
        [`ferry_verify_missing_items{${tableLabels}}`]: found.report.missing,
        [`ferry_verify_extra_items{${tableLabels}}`]: found.report.extra,
        [`ferry_verify_different_items{${tableLabels}}`]: found.report.different,
        [`ferry_verify_unmappable_rows{${tableLabels}}`]: found.report.unmappable,
        [`ferry_verify_source_rows{${tableLabels}}`]: ROWS,
        [`ferry_verify_sample_ratio{${tableLabels}}`]: 1,
        [`ferry_verify_last_run_succeeded{${labels}}`]: 1,
        [`ferry_verify_schedule_interval_seconds{${labels}}`]: 86400,
      });

      // A sample looks for no extra items, and pushes no count of them.
      const sampled = await verify('--sample', '10', '--max-divergence', '1', '--pushgateway', gateway.url);
      expect(gateway.pushes.map((p) => [p.method, p.path])).toEqual([
        ['PUT', group],
        ['PUT', group],
      ]);
      const pushed = samples(gateway.pushes[1]?.body as string);
      expect(pushed).toMatchObject({
        [`ferry_verify_divergence_ratio{${tableLabels}}`]: sampled.report.divergenceRatio,
        [`ferry_verify_missing_items{${tableLabels}}`]: sampled.report.missing,
        [`ferry_verify_source_rows{${tableLabels}}`]: sampled.report.sourceRows,
        [`ferry_verify_sample_ratio{${tableLabels}}`]: 0.1,
      });
      expect(Object.keys(pushed).filter((name) => name.startsWith('ferry_verify_extra_items'))).toEqual([]);
    } finally {
      await gateway.close();
    }
    // One segment finds the same extras as eight.
    const oneSegment = await verify('--segments', '1', '--max-divergence', '1');
    expect(oneSegment.report).toMatchObject({ missing: 3, extra: extras.length, different: 4 });

    const repaired = await verify('--repair');
    expect(repaired.report.repaired).toEqual({ written: 7, deleted: extras.length, skippedNewer: 0 });

    const clean = await verify();
    expect(clean.report).toMatchObject({ missing: 0, extra: 0, different: 0, unmappable: 0 });
    expect(clean.code).toBe(0);

    // A sample reads a share of the rows and does not look for extras.
    const sample = await verify('--sample', '10');
    expect(sample.report).toMatchObject({ checkedExtras: false, missing: 0, different: 0 });
    expect(sample.report.sourceRows).toBeGreaterThan(ROWS * 0.05);
    expect(sample.report.sourceRows).toBeLessThan(ROWS * 0.15);
    expect(sample.report.extraCheck).toBeUndefined();
  }, 300_000);

  it('remembers the keys no template traces (a hash of the id) and still finds exactly the divergence', async () => {
    const table = `${scenario.table}-hashed`;
    const path = scenario.writeMapping(
      'hashed.ts',
      `name: 'hashed-${scenario.id}',
  key: (row) => ({ pk: 'H' + ((row.id * 2654435761) % 4294967291).toString(36), sk: 'ITEM' }),
  item: (row) => ({ n_int: row.n_int }),`,
      'items',
      table,
    );
    try {
      // The items as the writer would write them, straight into a new table.
      const hashed = await loadMapping(path);
      const config = loadConfig({ overrides: { mapping: path } });
      await ensureTable(ddb, { table, partitionKey: hashed.partitionKey, sortKey: hashed.sortKey });
      const source = await connectSource(config.source.url);
      const keys: AttributeMap[] = [];
      try {
        for await (const page of readTable(source, await describeTable(source, hashed.sourceTable), {
          batchSize: 1000,
        })) {
          const items = page.flatMap(({ row }) =>
            hashed
              .itemsOf(row)
              .map(({ key, item }) => prepareMappedItem(hashed, key, item, config.pipeline).attributes),
          );
          for (let i = 0; i < items.length; i += 25) {
            let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
            while (pending.length > 0)
              pending = ((await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } })))
                .UnprocessedItems?.[table] ?? []) as typeof pending;
          }
          if (keys.length < 2) keys.push(...items.slice(0, 2).map(({ pk, sk }) => ({ pk, sk }) as AttributeMap));
        }
      } finally {
        await source.end();
      }
      for (const key of keys) await ddb.send(new DeleteItemCommand({ TableName: table, Key: key }));
      for (const pk of ['H-none', 'H.1', 'I#1'])
        await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: 'ITEM' } } }));

      const { code, out } = await runFerry('verify', '--mapping', path, '--json', '--segments', '3');
      const report = JSON.parse(out) as Record<string, number> & { extraCheck: Record<string, number> };
      expect([code, report]).toMatchObject([4, { missing: 2, extra: 3, different: 0, unmappable: 0 }]);
      // Most keys follow no template; a few hashes that happen to hold their id may.
      expect(report.extraCheck.keysHeldInMemory).toBeGreaterThan(ROWS * 0.9);
    } finally {
      await dropTable(table);
    }
  }, 300_000);
});
