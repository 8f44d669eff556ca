import type { Sink, SourceMessage, WriteResult } from '../../src/core/batch';
import { SinkWriteError } from '../../src/core/errors';
import type { WriteIntent } from '../../src/core/write-intent';
import { compileMapping } from '../../src/mapping/define-mapping';
import { changes } from '../../src/mapping/testing';
import { AppliedLog, type AppliedMessage, appliedPartition } from '../../src/pipeline/applied-log';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import type { EnvelopeDecoder } from '../../src/source/debezium/envelope';

const mapping = compileMapping({
  name: 'things',
  source: { table: 'db.things' },
  target: { table: 'things', partitionKey: 'pk', sortKey: { name: 'n', type: 'N' } },
  filter: (row: { x: unknown }) => row.x !== 'skip',
  key: (row: { id: number }) => ({ pk: `T#${row.id}`, n: row.id }),
  item: (row: { x: unknown }) => ({ x: row.x }),
});

/** `{"id":1,"x":…}` is an insert, `{"id":1,"gone":true}` a delete; anything else fails to decode. */
const decoder: EnvelopeDecoder = {
  decode: async (value) => {
    const row = JSON.parse(String(value)) as Record<string, unknown>;
    return { kind: 'change', event: row.gone ? changes.delete('db.things', row) : changes.insert('db.things', row) };
  },
  keyShape: async () => 'id',
};
const message = (offset: number, value: object | string): SourceMessage => ({
  key: Buffer.from('k'),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  offset: String(offset),
});

/** Writes everything, except item T#4 (stale: the table holds newer) and T#5 (refused for good). */
const sink: Sink = {
  write: async (intents: WriteIntent[]): Promise<WriteResult> => ({
    written: intents.filter((i) => !['T#4', 'T#5'].includes(i.key.pk as string)),
    stale: intents.filter((i) => i.key.pk === 'T#4'),
    failed: intents
      .filter((i) => i.key.pk === 'T#5')
      .map((intent) => ({ intent, error: new SinkWriteError('ValidationException: too big') })),
  }),
};

describe('pipeline > applied-changes log', () => {
  it('records what became of every change of a chunk, in order, each item on one partition', async () => {
    const sent: Array<{ partition: number; value: string }> = [];
    const producer = {
      send: async ({ messages }: { messages: Array<{ partition: number; value: string }> }) => {
        sent.push(...messages);
        return [];
      },
    };
    const processor = new BatchProcessor({
      mapping,
      itemRules: { numberOverflow: 'error' },
      decoder,
      sink,
      deadLetters: { publish: async () => undefined },
      appliedLog: new AppliedLog(producer as never, 'p.applied.things', 4, mapping),
    });
    await processor.process({
      topic: 'db.things',
      partition: 2,
      highWatermark: '9',
      messages: [
        message(0, { id: 1, x: 'a' }),
        message(1, { id: 1, x: 'b' }),
        message(2, { id: 2, x: 'skip' }),
        message(3, 'not json'),
        message(4, { id: 3, x: 1e300 }),
        message(5, { id: 4, x: 'old' }),
        message(6, { id: 5, x: 'refused' }),
        message(7, { id: 6, gone: true }),
      ],
    });
    const messages = sent.map((m) => ({ partition: m.partition, ...(JSON.parse(m.value) as AppliedMessage) }));
    for (const m of messages)
      expect(m).toMatchObject({
        mapping: 'things',
        table: 'things',
        source: { topic: 'db.things', partition: 2 },
        appliedAtMs: expect.any(Number),
      });
    // Per partition in chunk order; across partitions, put back in offset order to read the whole chunk.
    const records = messages
      .flatMap((m) => m.records.map((r) => ({ ...r, partition: m.partition })))
      .sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(records.map((r) => [r.offset, r.key?.pk, r.operation, r.outcome])).toEqual([
      ['0', { S: 'T#1' }, 'put', 'superseded'],
      ['1', { S: 'T#1' }, 'put', 'written'],
      ['2', undefined, null, 'filtered'],
      ['3', undefined, null, 'dead-lettered'],
      ['4', undefined, null, 'dead-lettered'],
      ['5', { S: 'T#4' }, 'put', 'stale'],
      ['6', { S: 'T#5' }, 'put', 'dead-lettered'],
      ['7', { S: 'T#6' }, 'delete', 'written'],
    ]);
    expect(records[1]).toMatchObject({
      key: { n: { N: '1' }, pk: { S: 'T#1' } },
      change: 'create',
      version: expect.stringMatching(/^v1:/),
      committedAtMs: expect.any(Number),
    });
    // Key attributes in name order, whatever the mapping's order: one item, one text, one partition.
    expect(Object.keys(records[1]?.key ?? {})).toEqual(['n', 'pk']);
    expect(records[0]?.partition).toBe(records[1]?.partition);
    expect(records[1]?.partition).toBe(appliedPartition(JSON.stringify(records[1]?.key), 4));
    // Records without an item stay with their source partition.
    expect(records[2]?.partition).toBe(2);
    expect(records[3]).toMatchObject({
      version: null,
      change: null,
      committedAtMs: null,
      error: expect.stringMatching(/SyntaxError/),
    });
    expect(records[4]?.error).toMatch(/ItemError.*1e\+300/);
    expect(records[6]?.error).toMatch(/ValidationException: too big/);
  });
});

describe('pipeline > applied-changes log > partitions', () => {
  it('spreads item keys evenly over the partitions', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 12_000; i++) {
      const key = JSON.stringify({ pk: { S: `CUSTOMER#${i}` } });
      const partition = appliedPartition(key, 12);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });
});
