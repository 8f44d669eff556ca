import type { ChangeEvent } from '../../src/core/change-event';
import { FerryEvents, type FerryEventMap } from '../../src/core/events';
import { formatVersion } from '../../src/core/version';
import { type MappingDefinition, compileMapping } from '../../src/mapping/define-mapping';
import { createMetrics } from '../../src/observability/metrics';
import { SchemaWatch } from '../../src/pipeline/schema-watch';
import type { RowSchema } from '../../src/core/row-schema';
import type { SchemaRecord } from '../../src/source/kafka/schema-log';

type Row = { id: number; a: string; price: string };
const mapping = (onSchemaChange?: 'alert' | 'snapshot') =>
  compileMapping({
    name: 'things',
    source: { table: 'db.things' },
    target: { table: 'things', partitionKey: 'pk' },
    key: (row: Row) => ({ pk: `T#${row.id}` }),
    item: (row: Row) => ({ a: row.a, price: row.price }),
    ...(onSchemaChange ? { onSchemaChange } : {}),
  } as MappingDefinition<Row>);

const schema = (...columns: Array<string | [string, string, unknown]>): RowSchema => ({
  columns: columns.map((c) =>
    typeof c === 'string'
      ? { name: c, type: 'string', optional: true }
      : { name: c[0], type: c[1], optional: true, default: c[2] },
  ),
});
const V1 = schema('id', 'a', 'price');
const V2 = schema('id', 'a', 'price', ['b', 'int32', 7]); // harmless: the mapping does not read b
const V3 = schema('id', 'c', 'price', ['b', 'int32', 7]); // a renamed to c: the mapping breaks
const V4 = schema('id', 'a', 'price', ['b', 'int32', 7], 'note'); // b back, then a column it does not read

const event = (pos: number, offset = pos): ChangeEvent => ({
  op: 'update',
  table: 'db.things',
  before: null,
  after: {},
  position: { version: formatVersion(3n, pos, 0, 2, 1_700_000_000_000 + pos), snapshot: false, committedAtMs: 0 },
  origin: { topic: 'p.db.things', partition: pos % 3, offset: String(offset) },
});

function setup(known?: SchemaRecord, onSchemaChange?: 'alert' | 'snapshot') {
  const events = new FerryEvents();
  const seen: Array<FerryEventMap['source.schema-changed']> = [];
  events.on('source.schema-changed', (e) => seen.push(e));
  const calls: string[] = [];
  const records: SchemaRecord[] = [];
  let failures = 0;
  const watch = new SchemaWatch({
    mapping: mapping(onSchemaChange),
    store: {
      last: async () => known,
      record: async (r) => {
        if (failures-- > 0) throw new Error('broker unreachable');
        calls.push('record');
        records.push(r);
      },
    },
    audit: async (detail) => void calls.push(`audit ${String(detail.class)}`),
    requestSnapshot: async () => {
      calls.push('snapshot');
      return 'signal-1';
    },
    events,
  });
  return { watch, seen, calls, records, events, failNext: (n: number) => (failures = n) };
}

describe('pipeline > schema watch', () => {
  it('records the first schema as the baseline, reporting nothing', async () => {
    const { watch, seen, calls, records } = setup();
    await watch.load();
    watch.observe(V1, event(100));
    watch.observe(V1, event(101));
    await watch.settle();
    expect(seen).toEqual([]);
    expect(calls).toEqual(['record']);
    expect(records[0]?.columns.map((c) => c.name)).toEqual(['id', 'a', 'price']);
  });

  it('reports a change once, when it is seen, and not for older messages of the old schema from lagging partitions', async () => {
    const { watch, seen, calls } = setup();
    await watch.load();
    watch.observe(V1, event(100));
    watch.observe(schema('id', 'c', 'price'), event(200)); // another object, other columns: a change
    expect(seen).toHaveLength(1); // at once: before the chunk's dead letters
    expect(seen[0]).toMatchObject({
      changes: 'renamed a to c',
      judgement: { class: 'mapping breaks', reasons: ['a was renamed to c'] },
      action: 'alert',
      offset: '200',
    });
    watch.observe(V1, event(150)); // a partition still draining the old schema
    watch.observe(schema('id', 'c', 'price'), event(201)); // equal columns, another object
    await watch.settle();
    expect(seen).toHaveLength(1);
    expect(calls).toEqual(['record', 'audit mapping breaks', 'record']);
  });

  it('after a restart, neither re-reports what it recorded nor misses a change made while it was down', async () => {
    const first = setup();
    await first.watch.load();
    first.watch.observe(V1, event(100));
    first.watch.observe(V2, event(200));
    await first.watch.settle();
    const recorded = first.records.at(-1) as SchemaRecord;
    expect(first.seen.map((e) => e.judgement.class)).toEqual(['harmless']);

    const replay = setup(recorded);
    await replay.watch.load();
    replay.watch.observe(V1, event(100)); // a rewind replays the old schema
    replay.watch.observe(V2, event(250));
    await replay.watch.settle();
    expect(replay.seen).toEqual([]);

    const resumed = setup(recorded);
    await resumed.watch.load();
    resumed.watch.observe(V3, event(300)); // the change happened while no worker ran
    await resumed.watch.settle();
    expect(resumed.seen.map((e) => e.changes)).toEqual(['renamed a to c']);
    expect(resumed.records.at(-1)?.drift).toMatchObject({ class: 'mapping breaks' });
  });

  it("with onSchemaChange 'snapshot', asks for a snapshot before recording, only when existing rows may differ", async () => {
    const { watch, seen, calls } = setup(undefined, 'snapshot');
    await watch.load();
    watch.observe(V1, event(100));
    watch.observe(V2, event(200)); // harmless
    watch.observe(schema('id', 'a', ['price', 'bytes/Decimal', undefined], ['b', 'int32', 7]), event(300)); // retyped
    watch.observe(V4, event(400)); // price back to string: retyped again, and note added
    await watch.settle();
    expect(seen.map((e) => [e.judgement.class, e.action])).toEqual([
      ['harmless', 'none'],
      ['existing rows may differ', 'snapshot'],
      ['existing rows may differ', 'snapshot'],
    ]);
    expect(calls).toEqual([
      'record',
      'audit harmless',
      'record',
      'snapshot',
      'audit existing rows may differ',
      'record',
      'snapshot',
      'audit existing rows may differ',
      'record',
    ]);
  });

  it('does not snapshot a mapping the change breaks: every row would dead-letter', async () => {
    const { watch, seen, calls } = setup(undefined, 'snapshot');
    await watch.load();
    watch.observe(V1, event(100));
    watch.observe(V3, event(200));
    await watch.settle();
    expect(seen.map((e) => e.action)).toEqual(['alert']);
    expect(calls).not.toContain('snapshot');
  });

  it('holds the chunk, retrying, until the change is recorded; it never drops one', async () => {
    const { watch, calls, failNext } = setup();
    await watch.load();
    watch.observe(V1, event(100));
    failNext(3);
    const retries: string[] = [];
    await watch.settle({ onRetry: (err) => retries.push(String((err as Error).message)) });
    expect(retries).toHaveLength(3);
    expect(retries[0]).toMatch(/^cannot record the schema seen: Error: broker unreachable/);
    expect(calls).toEqual(['record']);
  });

  it('counts changes by class, from 0, and snapshots asked for', async () => {
    const { watch, events } = setup(undefined, 'snapshot');
    const metrics = createMetrics(events, 'db.things', { name: 'things', targetTable: 'things' });
    const value = async (name: string, labels: Record<string, string>) =>
      (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value;
    expect(await value('ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(0);
    await watch.load();
    watch.observe(V1, event(100));
    watch.observe(schema('id', 'a', ['price', 'int64', undefined]), event(200));
    await watch.settle();
    expect(await value('ferry_source_schema_changes_total', { class: 'existing rows may differ' })).toBe(1);
    expect(await value('ferry_snapshots_requested_total', { mapping: 'things' })).toBe(1);
    metrics.close();
  });
});
