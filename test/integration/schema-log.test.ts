import { Partitioners } from 'kafkajs';
import { ensureSchemaTopic, lastSchema, recordSchema, type SchemaRecord } from '../../src/source/kafka/schema-log';
import { kafka, uniqueId } from '../support/stack';

/** The last source schema each mapping saw survives the worker: it is read back from Kafka. */
describe('integration > schema log', () => {
  const prefix = `t${uniqueId()}`;
  const client = kafka();
  const admin = client.admin();
  const producer = client.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  beforeAll(async () => {
    await Promise.all([admin.connect(), producer.connect()]);
    await ensureSchemaTopic(admin, prefix);
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [`${prefix}.ferry-schemas`] }).catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  });

  const record = (mapping: string, columns: string[], offset: string): SchemaRecord => ({
    mapping,
    table: 'db.t',
    columns: columns.map((name) => ({ name, type: 'int32', optional: true })),
    version: `v1:${offset}`,
    origin: { topic: 'p.db.t', partition: 0, offset },
    seenAt: new Date().toISOString(),
  });

  it("gives each mapping's newest record, and nothing for a mapping never seen", async () => {
    expect(await lastSchema(client, prefix, 'a')).toBeUndefined();
    await recordSchema(producer, prefix, record('a', ['id'], '1'));
    await recordSchema(producer, prefix, record('b', ['id', 'x'], '5'));
    await recordSchema(producer, prefix, record('a', ['id', 'b'], '9'));
    expect((await lastSchema(client, prefix, 'a'))?.columns.map((c) => c.name)).toEqual(['id', 'b']);
    expect((await lastSchema(client, prefix, 'b'))?.origin.offset).toBe('5');
    expect(await lastSchema(client, prefix, 'c')).toBeUndefined();
  }, 60_000);
});
