import { FerryEvents, type FerryEventMap } from '../../src/core/events';
import { DecodeError, FerryError, ItemError, SinkWriteError, UnorderedChangeError } from '../../src/core/errors';
import { RetryAbortedError } from '../../src/core/retry';
import type { WriteIntent } from '../../src/core/write-intent';
import { compileMapping } from '../../src/mapping/define-mapping';
import { changes } from '../../src/mapping/testing';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import type { DeadLetter } from '../../src/pipeline/dead-letters';
import type { Sink, SourceMessage, WriteControl } from '../../src/core/batch';
import { MemorySink } from '../../src/sink/memory/memory-sink';
import type { EnvelopeDecoder } from '../../src/source/debezium/envelope';

const mapping = compileMapping({
  name: 'things',
  source: { table: 'db.things' },
  target: { table: 'things', partitionKey: 'pk' },
  key: (row: { id: number }) => ({ pk: `T#${row.id}` }),
  item: (row: { id: number; x: unknown }) => ({ x: row.x }),
});

/** Messages carry their row as JSON; the decoder turns each into an insert. */
const decoder: EnvelopeDecoder = {
  decode: async (value) => ({
    kind: 'change',
    event: changes.insert('db.things', JSON.parse(String(value)) as Record<string, unknown>),
  }),
  keyShape: async (key) => (key === null ? null : 'id'),
};
const message = (offset: number, row: object): SourceMessage => ({
  key: Buffer.from('k'),
  value: Buffer.from(JSON.stringify(row)),
  offset: String(offset),
});

function harness(
  sink: Sink,
  {
    numberOverflow = 'error',
    decoding = decoder,
  }: { numberOverflow?: 'error' | 'string'; decoding?: EnvelopeDecoder } = {},
) {
  const events = new FerryEvents();
  const letters: DeadLetter[] = [];
  const seen: Array<[keyof FerryEventMap, unknown]> = [];
  for (const name of ['partition.blocked', 'partition.unblocked'] as const)
    events.on(name, (p) => seen.push([name, p]));
  const processor = new BatchProcessor({
    mapping,
    itemRules: { numberOverflow },
    decoder: decoding,
    sink,
    deadLetters: { publish: async (batch) => void letters.push(...batch) },
    events,
  });
  const runOn = (partition: number, messages: SourceMessage[]) =>
    processor.process({ topic: 'db.things', partition, highWatermark: '100', messages });
  const run = (messages: SourceMessage[]) => runOn(3, messages);
  return { run, runOn, letters, seen };
}

describe('pipeline > batch processor', () => {
  it('dead-letters a number DynamoDB cannot hold, naming the attribute, and writes the rest', async () => {
    const sink = new MemorySink();
    const { run, letters } = harness(sink);
    await run([message(0, { id: 1, x: 1e300 }), message(1, { id: 2, x: 1e16 })]);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.error).toBeInstanceOf(ItemError);
    expect(String((letters[0]?.error as Error).message)).toContain('attribute "x": 1e+300');
    expect(sink.items('things')).toEqual([
      expect.objectContaining({ pk: { S: 'T#2' }, x: { N: '10000000000000000' } }),
    ]);
  });

  it("stores such a number as text under numberOverflow 'string'", async () => {
    const sink = new MemorySink();
    const { run, letters } = harness(sink, { numberOverflow: 'string' });
    await run([message(0, { id: 1, x: 1e300 })]);
    expect(letters).toEqual([]);
    expect(sink.items('things')[0]).toMatchObject({ x: { S: '1e+300' } });
  });

  it('reports a blocked partition with the item key at every retry, and when it clears', async () => {
    const memory = new MemorySink();
    let failures = 3;
    const flaky: Sink = {
      write: async (intents: WriteIntent[], control?: WriteControl) => {
        while (failures > 0) {
          failures--;
          control?.onRetry?.(new SinkWriteError('throttled', { retriable: true }), intents[0] as WriteIntent);
        }
        return memory.write(intents);
      },
    };
    const { run, seen } = harness(flaky);
    await run([message(0, { id: 7, x: 1 })]);
    expect(seen.map(([name]) => name)).toEqual([
      'partition.blocked',
      'partition.blocked',
      'partition.blocked',
      'partition.unblocked',
    ]);
    expect(seen[0]?.[1]).toMatchObject({ topic: 'db.things', partition: 3, key: { pk: 'T#7' } });
    const since = (seen[0]?.[1] as { sinceMs: number }).sinceMs;
    expect(seen.every(([, p]) => (p as { sinceMs: number }).sinceMs === since)).toBe(true);
  });

  it("decodes a chunk without yielding when the decoder answers at once; a failed first answer is the retry's first", async () => {
    const calls: string[] = [];
    let unavailable = 2;
    const sync: EnvelopeDecoder = {
      decode: (value, origin) => {
        calls.push(`${origin.partition}/${origin.offset}`);
        const row = JSON.parse(String(value)) as { id: number; x: unknown };
        // Thrown, not rejected: a registry outage on the first two tries of offset 1, then a row it cannot read.
        if (origin.partition === 0 && origin.offset === '1' && unavailable-- > 0)
          throw new FerryError('registry unavailable', { retriable: true });
        if (row.x === 'unreadable') throw new DecodeError('not a change');
        return { kind: 'change', event: changes.insert('db.things', row) };
      },
      keyShape: () => 'id',
    };
    const sink = new MemorySink();
    const { runOn, letters, seen } = harness(sink, { decoding: sync });
    const chunk = (partition: number) =>
      runOn(
        partition,
        [0, 1, 2, 3].map((o) => message(o, { id: partition * 10 + o, x: o === 3 ? 'unreadable' : o })),
      );
    // Offset 1 of partition 0 fails twice, then decodes; partition 1's offset 1 decodes at once.
    await Promise.all([chunk(0), chunk(1)]);
    // Partition 1's chunk decodes whole, between partition 0's failed attempt and its retry.
    expect(calls).toEqual(['0/0', '0/1', '1/0', '1/1', '1/2', '1/3', '0/1', '0/1', '0/2', '0/3']);
    expect(seen.filter(([name]) => name === 'partition.blocked')).toHaveLength(2);
    expect(
      sink
        .items('things')
        .map((i) => i.pk?.S)
        .sort(),
    ).toEqual(['T#0', 'T#1', 'T#10', 'T#11', 'T#12', 'T#2']);
    // A row it cannot read is tried once and dead-lettered, in either partition.
    expect(letters.map((l) => [l.origin.partition, l.origin.offset, l.error instanceof DecodeError])).toEqual([
      [1, '3', true],
      [0, '3', true],
    ]);
  });

  it('emits nothing about blocking when the batch flows', async () => {
    const { run, seen } = harness(new MemorySink());
    await run([message(0, { id: 1, x: 1 })]);
    expect(seen).toEqual([]);
  });

  it("skips another table's rows sharing the topic, before its key, order or schema is judged, and says so", async () => {
    const events = new FerryEvents();
    const other: unknown[] = [];
    events.on('source.other-table', (e) => other.push(e));
    const sink = new MemorySink();
    const letters: DeadLetter[] = [];
    // "db.things" and "db.thing$" both go to topic p.db.things; the other table has another key.
    const processor = new BatchProcessor({
      mapping,
      itemRules: { numberOverflow: 'error' },
      decoder: {
        decode: async (value) => {
          const { table, ...row } = JSON.parse(String(value)) as { table: string };
          return { kind: 'change', event: changes.insert(table, row) };
        },
        keyShape: async (key) => String(key),
      },
      sink,
      deadLetters: { publish: async (batch) => void letters.push(...batch) },
      events,
    });
    const at = (offset: number, table: string, key: string, row: object): SourceMessage => ({
      key: Buffer.from(key),
      value: Buffer.from(JSON.stringify({ table, ...row })),
      offset: String(offset),
    });
    await processor.process({
      topic: 'p.db.things',
      partition: 0,
      highWatermark: '3',
      messages: [
        at(0, 'db.things', 'id', { id: 1, x: 'mine' }),
        at(1, 'db.thing$', 'code', { id: 2, code: 'z', x: 'theirs' }),
        at(2, 'db.things', 'id', { id: 3, x: 'mine' }),
      ],
    });
    expect(sink.items('things').map(({ pk, x }) => [pk, x])).toEqual([
      [{ S: 'T#1' }, { S: 'mine' }],
      [{ S: 'T#3' }, { S: 'mine' }],
    ]);
    expect(letters).toEqual([]);
    expect(other).toEqual([
      {
        mapping: 'things',
        sourceTable: 'db.things',
        table: 'db.thing$',
        topic: 'p.db.things',
        partition: 0,
        offset: '1',
      },
    ]);
  });

  it("hands the chunk's tombstones to the lost-delete check once its writes are done", async () => {
    const sink = new MemorySink();
    const checked: Array<{ tombstones: readonly number[]; itemsWritten: number }> = [];
    const processor = new BatchProcessor({
      mapping,
      itemRules: { numberOverflow: 'error' },
      decoder: {
        decode: async (value, origin) =>
          value === null ? { kind: 'skip', reason: 'tombstone' } : decoder.decode(value, origin),
        keyShape: decoder.keyShape,
      },
      sink,
      deadLetters: { publish: async () => undefined },
      lostDeletes: {
        check: async (_topic, _partition, _messages, tombstones) =>
          void checked.push({ tombstones, itemsWritten: sink.items('things').length }),
      },
    });
    const tombstone = (offset: number): SourceMessage => ({
      key: Buffer.from('k'),
      value: null,
      offset: String(offset),
    });
    await processor.process({
      topic: 'db.things',
      partition: 0,
      highWatermark: '9',
      messages: [tombstone(3), message(4, { id: 1, x: 1 }), tombstone(6), message(7, { id: 2, x: 2 })],
    });
    expect(checked).toEqual([{ tombstones: [0, 2], itemsWritten: 2 }]);
  });

  describe('order', () => {
    /** A decoder whose key shape is the key's text ("" for none) and whose rows carry an op. */
    const keyed: EnvelopeDecoder = {
      decode: async (value) => {
        const row = JSON.parse(String(value)) as { id: number; op?: 'truncate' };
        return {
          kind: 'change',
          event: row.op === 'truncate' ? changes.truncate('db.things') : changes.insert('db.things', row),
        };
      },
      keyShape: async (key) => (key === null ? null : key.toString()),
    };
    const at = (offset: number, key: string | null, row: object): SourceMessage => ({
      key: key === null ? null : Buffer.from(key),
      value: Buffer.from(JSON.stringify(row)),
      offset: String(offset),
    });
    function processor(sink: Sink) {
      const events = new FerryEvents();
      const letters: DeadLetter[] = [];
      const blocked: Array<FerryEventMap['partition.blocked']> = [];
      const keyChanges: Array<FerryEventMap['source.key-changed']> = [];
      events.on('partition.blocked', (p) => blocked.push(p));
      events.on('source.key-changed', (p) => keyChanges.push(p));
      const batchProcessor = new BatchProcessor({
        mapping,
        itemRules: { numberOverflow: 'error' },
        decoder: keyed,
        sink,
        deadLetters: { publish: async (batch) => void letters.push(...batch) },
        events,
      });
      const run = (messages: SourceMessage[], shouldStop?: () => boolean) =>
        batchProcessor.process(
          { topic: 'p.db.things', partition: 1, highWatermark: '9', messages },
          shouldStop,
          undefined,
        );
      return { run, letters, blocked, keyChanges };
    }

    it('holds the partition at a change without a Kafka key: nothing written, nothing dead-lettered, the fix named', async () => {
      const sink = new MemorySink();
      const { run, letters, blocked } = processor(sink);
      const messages = [at(0, 'id', { id: 1 }), at(1, null, { id: 2 }), at(2, 'id', { id: 3 })];
      await expect(run(messages, () => blocked.length >= 3)).rejects.toBeInstanceOf(RetryAbortedError);
      expect(sink.items('things')).toEqual([]);
      expect(letters).toEqual([]);
      const error = blocked[0]?.error as Error;
      expect(error).toBeInstanceOf(UnorderedChangeError);
      expect(error.message).toMatch(/^db\.things has no row key: the change at p\.db\.things\[1\]@1 has no Kafka key/);
      expect(error.message).toContain('message.key.columns (ferry connector --key db.things=<columns>)');
      expect(error.message).not.toContain('\n');
    });

    it('lets a TRUNCATE, which has no key, through to the mapping (dead-lettered by default)', async () => {
      const { run, letters, blocked } = processor(new MemorySink());
      await run([at(0, null, { id: 0, op: 'truncate' })]);
      expect(blocked).toEqual([]);
      expect(letters).toHaveLength(1);
    });

    it('says once per new shape that the key changed columns, and writes on', async () => {
      const sink = new MemorySink();
      const { run, keyChanges } = processor(sink);
      await run([at(0, 'id', { id: 1 }), at(1, 'code', { id: 2 }), at(2, 'id', { id: 3 }), at(3, 'code', { id: 4 })]);
      expect(keyChanges).toEqual([
        {
          mapping: 'things',
          topic: 'p.db.things',
          partition: 1,
          offset: '1',
          table: 'db.things',
          from: 'id',
          to: 'code',
        },
      ]);
      expect(sink.items('things')).toHaveLength(4);
    });
  });
});
