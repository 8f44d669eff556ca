import { SinkWriteError } from '../../src/core/errors';
import { FerryEvents, type FerryEventMap } from '../../src/core/events';
import { RetryAbortedError } from '../../src/core/retry';
import { formatVersion } from '../../src/core/version';
import type { AttributeMap } from '../../src/core/write-intent';
import { type MappingDefinition, compileMapping } from '../../src/mapping/define-mapping';
import type { Logger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { logPartitionHealth } from '../../src/observability/partition-log';
import { type ItemVersions, LostDeleteCheck, keysOfKeyColumns } from '../../src/pipeline/lost-deletes';
import type { HeldVersion } from '../../src/sink/dynamodb/item-versions';
import type { KeyDecoder } from '../../src/source/debezium/envelope';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';

const TOPIC = 'p.db.things';
const DELETED_AT = Date.parse('2026-03-01T12:00:00Z');

const single = (extra: Partial<MappingDefinition<{ id: number; name: string }>> = {}) =>
  compileMapping({
    name: 'things',
    source: { table: 'db.things' },
    target: { table: 'things', partitionKey: 'pk', sortKey: 'sk' },
    key: (row: { id: number }) => ({ pk: `T#${row.id}`, sk: 'PROFILE' }),
    item: (row: { name: string }) => ({ name: row.name }),
    ...extra,
  } as MappingDefinition<{ id: number; name: string }>);

/** Keys are JSON rows; a message's value is anything but null, a tombstone's null. */
const decoder: KeyDecoder = { keyRow: async (key) => (key === null ? null : JSON.parse(String(key))) };
const change = (offset: number, id: number) => ({
  key: Buffer.from(JSON.stringify({ id })),
  value: Buffer.from('change'),
  offset: String(offset),
  timestamp: String(DELETED_AT - 1000),
});
const tombstone = (offset: number, id: number, at = DELETED_AT) => ({
  key: Buffer.from(JSON.stringify({ id })),
  value: null,
  offset: String(offset),
  timestamp: String(at),
});
const version = (committedAtMs: number, phase: 0 | 1 | 2 = 2) => formatVersion(1, 4, 0, phase, committedAtMs);

/** Items by "<table> <pk>", each with its version; every read is recorded. */
function fakeItems(held: Record<string, string> = {}) {
  const reads: string[] = [];
  const items: ItemVersions = {
    versionOf: async (table: string, key: AttributeMap): Promise<HeldVersion> => {
      const id = `${table} ${key.pk?.S}`;
      reads.push(id);
      const v = held[id];
      return v === undefined ? { found: false } : { found: true, version: v };
    },
  };
  return { items, reads };
}

function harness(held: Record<string, string> = {}, mapping = single()) {
  const events = new FerryEvents();
  const seen: Array<[keyof FerryEventMap, unknown]> = [];
  for (const name of ['source.lone-tombstone', 'sink.lost-delete'] as const)
    events.on(name, (p) => seen.push([name, p]));
  const { items, reads } = fakeItems(held);
  const keyRows: string[] = [];
  const counting: KeyDecoder = {
    keyRow: async (key, origin) => (keyRows.push(origin.offset), decoder.keyRow(key, origin)),
  };
  const check = new LostDeleteCheck({ mapping, decoder: counting, items, events });
  const run = (messages: Array<ReturnType<typeof change> | ReturnType<typeof tombstone>>, partition = 0) =>
    check.check(
      TOPIC,
      partition,
      messages,
      messages.flatMap((m, i) => (m.value === null ? [i] : [])),
    );
  const outcomes = () =>
    seen.filter(([name]) => name === 'source.lone-tombstone').map(([, p]) => (p as { outcome: string }).outcome);
  const lost = () => seen.filter(([name]) => name === 'sink.lost-delete').map(([, p]) => p);
  return { run, reads, keyRows, seen, outcomes, lost, check, events };
}

describe('pipeline > lost deletes', () => {
  it('reads nothing for a tombstone right after the delete event of its key, nor for ordinary changes', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) });
    await h.run([change(10, 1), change(11, 2), tombstone(12, 2), change(13, 1)]);
    expect([h.reads, h.keyRows, h.seen]).toEqual([[], [], []]);
  });

  it('reports the item of a lone tombstone written before it: a delete compaction took', async () => {
    const h = harness({ 'things T#7': version(DELETED_AT - 60_000) });
    // Offset 11, the delete event, was compacted away.
    await h.run([change(10, 3), tombstone(12, 7)], 4);
    expect(h.reads).toEqual(['things T#7']);
    expect(h.seen).toEqual([
      [
        'source.lone-tombstone',
        { mapping: 'things', topic: TOPIC, partition: 4, offset: '12', outcome: 'lost-delete' },
      ],
      [
        'sink.lost-delete',
        {
          mapping: 'things',
          table: 'things',
          sourceTable: 'db.things',
          topic: TOPIC,
          partition: 4,
          offset: '12',
          tombstoneAtMs: DELETED_AT,
          items: [{ key: { pk: 'T#7', sk: 'PROFILE' }, version: version(DELETED_AT - 60_000) }],
        },
      ],
    ]);
  });

  it('takes an item written in the same millisecond as the tombstone for lost (a change and a delete in one transaction)', async () => {
    const h = harness({ 'things T#7': version(DELETED_AT) });
    await h.run([tombstone(5, 7)]);
    expect(h.outcomes()).toEqual(['lost-delete']);
  });

  it('finds nothing wrong when the row has no item: a rebuild into an empty table, or a delete already applied', async () => {
    const h = harness();
    await h.run([tombstone(0, 1), tombstone(3, 2), change(4, 3)]);
    expect(h.reads).toEqual(['things T#1', 'things T#2']);
    expect([h.outcomes(), h.lost()]).toEqual([['no-item', 'no-item'], []]);
  });

  it('finds nothing wrong in an item written after the tombstone, or by the delete itself (a soft delete)', async () => {
    const h = harness(
      { 'things T#1': version(DELETED_AT + 1), 'things T#2': version(DELETED_AT - 1000, 1) },
      single({ onDelete: { soft: 'deletedAt' } }),
    );
    await h.run([tombstone(0, 1), tombstone(1, 2)]);
    expect([h.outcomes(), h.lost()]).toEqual([['item-newer', 'item-newer'], []]);
  });

  it('pairs a tombstone with the delete event that ended the previous chunk of its partition, and only there', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) });
    await h.run([change(20, 1)], 1);
    await h.run([change(20, 1)], 2);
    await h.run([tombstone(21, 1)], 1);
    expect(h.seen).toEqual([]);
    // Partition 2 read another key since.
    await h.run([change(21, 9)], 2);
    await h.run([tombstone(22, 1)], 2);
    expect(h.outcomes()).toEqual(['lost-delete']);
  });

  it('takes a tombstone after a gap for lone even when the change before it has its key', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) });
    // 10 is the row's update; its delete event at 11 was compacted away.
    await h.run([change(10, 1), tombstone(12, 1)]);
    expect(h.outcomes()).toEqual(['lost-delete']);
  });

  it('reads nothing when the row changes again later in the chunk: that change is written already', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) });
    await h.run([tombstone(12, 1), change(13, 1)]);
    expect([h.reads, h.outcomes()]).toEqual([[], ['changed-again']]);
  });

  it('checks nothing for a mapping that keeps items on delete', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) }, single({ onDelete: 'ignore' }));
    await h.run([tombstone(12, 1)]);
    expect([h.reads, h.seen]).toEqual([[], []]);
  });

  it('counts a key that reads a column the Kafka key lacks as not derivable, and reads nothing', async () => {
    const h = harness(
      {},
      single({ key: (row: { id: number; name: string }) => ({ pk: `T#${row.id}#${row.name}`, sk: 'PROFILE' }) }),
    );
    await h.run([tombstone(12, 1)]);
    expect(h.reads).toEqual([]);
    expect(h.seen).toEqual([
      [
        'source.lone-tombstone',
        expect.objectContaining({
          outcome: 'key-not-derivable',
          reason: `the mapping's key reads column "name", which the Kafka key does not carry`,
        }),
      ],
    ]);
  });

  it('retries a read that can succeed, blocking as writes do, and gives up the chunk when stopped', async () => {
    const { items } = fakeItems({ 'things T#1': version(DELETED_AT - 5000) });
    let failures = 2;
    const retried: unknown[] = [];
    const flaky: ItemVersions = {
      versionOf: async (table, key) => {
        if (failures-- > 0) throw new SinkWriteError('throttled', { retriable: true });
        return items.versionOf(table, key);
      },
    };
    const events = new FerryEvents();
    const lost: unknown[] = [];
    events.on('sink.lost-delete', (p) => lost.push(p));
    const check = new LostDeleteCheck({ mapping: single(), decoder, items: flaky, events });
    await check.check(TOPIC, 0, [tombstone(1, 1)], [0], { onRetry: (e) => retried.push(e) });
    expect([retried.length, lost.length]).toEqual([2, 1]);

    failures = 1;
    const stopped = check.check(TOPIC, 0, [tombstone(3, 1)], [0], { shouldStop: () => true });
    await expect(stopped).rejects.toBeInstanceOf(RetryAbortedError);
  });

  it('counts a read refused for good as not checked, and goes on', async () => {
    const events = new FerryEvents();
    const outcomes: string[] = [];
    events.on('source.lone-tombstone', ({ outcome }) => outcomes.push(outcome));
    const refusing: ItemVersions = {
      versionOf: async () => {
        throw new SinkWriteError('ValidationException', { retriable: false });
      },
    };
    const check = new LostDeleteCheck({ mapping: single(), decoder, items: refusing, events });
    await check.check(TOPIC, 0, [tombstone(1, 1)], [0]);
    expect(outcomes).toEqual(['not-checked']);
  });
});

describe('pipeline > lost deletes > item keys from the Kafka key alone', () => {
  it('gives the key of a mapping that reads only key columns, prepared as a delete sends it', () => {
    expect(keysOfKeyColumns(single(), { id: 5 })).toEqual({ keys: [{ pk: { S: 'T#5' }, sk: { S: 'PROFILE' } }] });
  });

  it('does not ask the filter: a row it leaves out has no item to find', () => {
    const filtered = single({ filter: (row: { name: string }) => row.name !== 'x' });
    expect(keysOfKeyColumns(filtered, { id: 5 })).toEqual({ keys: [{ pk: { S: 'T#5' }, sk: { S: 'PROFILE' } }] });
  });

  const fanOut = (items: (row: Record<string, unknown>) => Array<{ key: Record<string, string>; item: object }>) =>
    compileMapping({
      name: 'things',
      source: { table: 'db.things' },
      target: { table: 'things', partitionKey: 'pk', sortKey: 'sk' },
      items,
    });

  it('gives every key of a fan-out whose items read only key columns', () => {
    const byTenant = fanOut((row) => [
      { key: { pk: `T#${row.tenant}`, sk: `#${row.id}` }, item: {} },
      { key: { pk: `ID#${row.id}`, sk: 'A' }, item: { tenant: row.tenant } },
    ]);
    expect(keysOfKeyColumns(byTenant, { tenant: 'acme', id: 2 })).toEqual({
      keys: [
        { pk: { S: 'T#acme' }, sk: { S: '#2' } },
        { pk: { S: 'ID#2' }, sk: { S: 'A' } },
      ],
    });
  });

  it('gives none, naming the column, when any item of a fan-out reads another column', () => {
    const byEmail = fanOut((row) => [
      { key: { pk: `ACCOUNT#${row.id}`, sk: 'PROFILE' }, item: {} },
      { key: { pk: `EMAIL#${row.email}`, sk: 'ACCOUNT' }, item: {} },
    ]);
    expect(keysOfKeyColumns(byEmail, { id: 2 })).toEqual({
      reason: `the mapping's key reads column "email", which the Kafka key does not carry`,
    });
  });

  it('gives none when the mapping catches the read of another column, or enumerates the row', () => {
    const catching = single({
      key: (row: { id: number; name: string }) => {
        try {
          return { pk: `T#${row.name}`, sk: 'PROFILE' };
        } catch {
          return { pk: `T#${row.id}`, sk: 'PROFILE' };
        }
      },
    });
    expect(keysOfKeyColumns(catching, { id: 1 })).toEqual({
      reason: `the mapping's key reads column "name", which the Kafka key does not carry`,
    });
    const spreading = single({ key: (row) => ({ pk: JSON.stringify({ ...row }), sk: 'P' }) });
    expect(keysOfKeyColumns(spreading, { id: 1 })).toMatchObject({ reason: expect.stringContaining('every column') });
  });

  it('gives none for a key the mapping cannot make or that is invalid', () => {
    const throwing = single({
      key: (row: { id: number }) => {
        if (row.id > 0) throw new Error('no');
        return { pk: 'x', sk: 'y' };
      },
    });
    expect(keysOfKeyColumns(throwing, { id: 1 })).toEqual({
      reason: "the mapping's key threw on the key columns: Error: no",
    });
    const empty = single({ key: () => ({ pk: '', sk: 'P' }) });
    expect(keysOfKeyColumns(empty, { id: 1 })).toMatchObject({ reason: expect.stringContaining('"pk"') });
  });
});

describe('source > debezium > json > key rows', () => {
  const origin = { topic: TOPIC, partition: 0, offset: '1' };
  const keyRow = (key: string | null) =>
    new JsonEnvelopeDecoder().keyRow(key === null ? null : Buffer.from(key), origin);

  it('decodes a key with its schema as the row would hold it: exact decimals, BIGINTs over 2^53', async () => {
    const key = JSON.stringify({
      schema: {
        type: 'struct',
        fields: [
          { type: 'int64', optional: false, field: 'id' },
          {
            type: 'bytes',
            optional: false,
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '2' },
            field: 'code',
          },
        ],
        optional: false,
        name: 'p.db.things.Key',
      },
      payload: { id: 0, code: Buffer.from([0x30, 0x39]).toString('base64') },
    }).replace('"id":0', '"id":9007199254740993');
    const row = await keyRow(key);
    expect(row?.id).toBe(9007199254740993n);
    expect(String(row?.code)).toBe('123.45');
  });

  it('reads a key without a schema as it is, and gives no row for a key that is not a JSON object', async () => {
    expect(await keyRow('{"id":7}')).toEqual({ id: 7 });
    expect(await keyRow('{"schema":null,"payload":{"id":7}}')).toEqual({ id: 7 });
    expect(await keyRow('7')).toBeNull();
    expect(await keyRow('not json')).toBeNull();
    expect(await keyRow(null)).toBeNull();
  });
});

describe('observability > lost deletes', () => {
  it('logs each lost delete at error level with the table, origin, item key, cause and fix', () => {
    const lines: Array<[string, Record<string, unknown>, string]> = [];
    const record = (level: string) => (fields: Record<string, unknown>, msg: string) =>
      lines.push([level, fields, msg]);
    const logger = { error: record('error'), warn: record('warn') } as unknown as Logger;
    const h = harness();
    const stop = logPartitionHealth(h.events, logger);
    h.events.emit('sink.lost-delete', {
      mapping: 'things',
      table: 'things',
      sourceTable: 'db.things',
      topic: TOPIC,
      partition: 3,
      offset: '41',
      tombstoneAtMs: DELETED_AT,
      items: [{ key: { pk: 'T#7', sk: 'PROFILE' }, version: version(DELETED_AT - 60_000) }],
    });
    expect(lines).toEqual([
      [
        'error',
        expect.objectContaining({
          table: 'things',
          topic: TOPIC,
          partition: 3,
          offset: '41',
          key: { pk: 'T#7', sk: 'PROFILE' },
          tombstoneAt: '2026-03-01T12:00:00.000Z',
        }),
        `lost delete: a row of db.things was deleted at the source, but item {"pk":"T#7","sk":"PROFILE"} is still in things: only the row's tombstone is left, at ${TOPIC}[3]@41, as its delete event was compacted away before this worker read it (the worker lagged more than the topic's min.compaction.lag.ms). Fix: ferry verify --mapping things --repair, and raise min.compaction.lag.ms of ${TOPIC} above the worker's worst lag`,
      ],
    ]);
    stop();
  });

  it('warns once per reason that lone tombstones cannot be checked', async () => {
    const levels: string[] = [];
    const logger = { warn: (_f: unknown, msg: string) => levels.push(msg) } as unknown as Logger;
    const h = harness(
      {},
      single({ key: (row: { id: number; name: string }) => ({ pk: `T#${row.id}#${row.name}`, sk: 'PROFILE' }) }),
    );
    const stop = logPartitionHealth(h.events, logger);
    await h.run([tombstone(1, 1), tombstone(3, 2)]);
    expect(levels).toEqual([expect.stringContaining('cannot be checked: the mapping\'s key reads column "name"')]);
    stop();
  });

  it('counts lost deletes from 0 and lone tombstones by outcome', async () => {
    const h = harness({ 'things T#1': version(DELETED_AT - 5000) });
    const metrics = createMetrics(h.events, 'db.things', { name: 'things', targetTable: 'things' });
    const text = () => metrics.registry.metrics();
    expect(await text()).toContain('ferry_lost_deletes_total{mapping="things",table="things"} 0');
    await h.run([tombstone(1, 1), tombstone(3, 2)]);
    expect(await text()).toContain('ferry_lost_deletes_total{mapping="things",table="things"} 1');
    expect(await text()).toContain('ferry_lone_tombstones_total{mapping="things",outcome="lost-delete"} 1');
    expect(await text()).toContain('ferry_lone_tombstones_total{mapping="things",outcome="no-item"} 1');
    metrics.close();
  });
});
