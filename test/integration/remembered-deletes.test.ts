/**
 * Deletes that stay deleted, against DynamoDB Local: whatever order changes of an item arrive
 * in (a redriven letter, an evicted worker's last write, a replay), and however two writers
 * interleave, the item ends as its newest change left it.
 */
import { CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { ChangeEvent, Operation } from '../../src/core/change-event';
import { type Phase, formatVersion } from '../../src/core/version';
import type { WriteIntent } from '../../src/core/write-intent';
import { ensureDeletesTable, deleteId } from '../../src/sink/dynamodb/deletes';
import { DynamoDbWriter, type WriterOptions } from '../../src/sink/dynamodb/dynamodb-writer';
import { type DynamoDbBatches, LeanDynamoDb } from '../../src/sink/dynamodb/lean-client';
import { BatchRebuildWriter } from '../../src/sink/dynamodb/batch-writer';
import { WrittenKeys } from '../../src/sink/dynamodb/written-keys';
import { loadConfig } from '../../src/config/config';
import { dropTable, dynamoDb, scanAll, stack, uniqueId } from '../support/stack';

const id = uniqueId();
const target = `ferry-test-${id}`;
const deletesTable = `ferry-deletes-${id}`;
const { raw } = dynamoDb();
const options: WriterOptions = {
  concurrency: 4,
  deletes: { table: deletesTable, rememberDays: 30 },
  retry: { initialDelayMs: 5, maxDelayMs: 20 },
};
// The worker's client and writer (the lean client), against DynamoDB Local.
const lean = () => new LeanDynamoDb(loadConfig({ env: { FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint } }).dynamodb);
const writer = () => new DynamoDbWriter(lean(), options);
/** Source commit times follow binlog positions, a second apart. */
const START_MS = Date.parse('2026-11-01T00:00:00Z');

interface Change {
  key: string;
  kind: 'put' | 'delete';
  op: Operation;
  /** Binlog position: unique, orders the changes. */
  pos: number;
}

function intent({ key, kind, op, pos }: Change, file = 1, committedAtMs = START_MS + pos * 1000): WriteIntent {
  const phase: Phase = kind === 'delete' ? 1 : 2;
  const event: ChangeEvent = {
    op,
    table: 'db.t',
    before: null,
    after: null,
    position: { version: formatVersion(file, pos, 0, phase, committedAtMs), snapshot: false, committedAtMs },
    origin: { topic: 't', partition: 0, offset: String(pos) },
  };
  const keyAttributes = { pk: { S: key } };
  return kind === 'put'
    ? {
        kind,
        table: target,
        key: { pk: key },
        item: { pk: key },
        attributes: { ...keyAttributes, n: { N: String(pos) } },
        event,
      }
    : { kind, table: target, key: { pk: key }, keyAttributes, event };
}

const put = (key: string, pos: number, op: Operation = 'update'): Change => ({ key, kind: 'put', op, pos });
const del = (key: string, pos: number): Change => ({ key, kind: 'delete', op: 'delete', pos });

/** Random histories over a few keys, for the properties below. */
const drawnChange = (keys: string[]) =>
  fc.record({
    key: fc.constantFrom(...keys),
    kind: fc.constantFrom('put' as const, 'delete' as const),
    op: fc.constantFrom<Operation>('create', 'update', 'snapshot'),
  });
type Drawn = { key: string; kind: 'put' | 'delete'; op: Operation };

/** Each run has keys of its own; positions increase in source order. */
const historyOf = (drawn: Drawn[], run: number): Change[] =>
  drawn.map((c, i) => ({
    key: `${c.key}-${run}`,
    kind: c.kind,
    op: c.kind === 'delete' ? 'delete' : c.op,
    pos: 1000 + i,
  }));

const arrivalOf = (history: Change[], order: number[]) =>
  history
    .map((c, i) => ({ c, rank: order[i] ?? 0 }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ c }) => c);

async function expectNewest(history: Change[], keys: string[], run: number) {
  for (const key of keys.map((k) => `${k}-${run}`)) {
    const newest = history.filter((c) => c.key === key).at(-1);
    const got = await item(key);
    if (newest === undefined || newest.kind === 'delete') expect(got).toBeUndefined();
    else expect(got?.n).toEqual({ N: String(newest.pos) });
  }
}

async function item(key: string) {
  return (await raw.send(new GetItemCommand({ TableName: target, Key: { pk: { S: key } }, ConsistentRead: true })))
    .Item;
}

beforeAll(async () => {
  await raw.send(
    new CreateTableCommand({
      TableName: target,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  await ensureDeletesTable(raw, deletesTable, true);
});

afterAll(async () => {
  await dropTable(target);
  await dropTable(deletesTable);
  raw.destroy();
});

describe('remembered deletes (DynamoDB Local)', () => {
  it('keeps a row deleted when an older update arrives after the delete (a redrive, an evicted worker)', async () => {
    await writer().write([intent(put('a', 1, 'create'))]);
    await writer().write([intent(del('a', 3))]);
    const late = await writer().write([intent(put('a', 2, 'update'))]);
    expect(late.stale).toHaveLength(1);
    expect(await item('a')).toBeUndefined();
  });

  it('keeps a row deleted when an older create or snapshot read arrives after the delete (a replay)', async () => {
    await writer().write([intent(del('b', 5))]);
    const late = await writer().write([intent(put('b', 4, 'create')), intent(put('b', 4, 'snapshot'))]);
    expect(late.stale).toHaveLength(2);
    expect(await item('b')).toBeUndefined();
  });

  it('lets a newer create bring the row back, and a newer delete remove it again', async () => {
    await writer().write([intent(put('c', 10, 'create'))]);
    await writer().write([intent(del('c', 11))]);
    expect((await writer().write([intent(put('c', 12, 'create'))])).written).toHaveLength(1);
    expect((await item('c'))?.n).toEqual({ N: '12' });
    await writer().write([intent(del('c', 13))]);
    expect((await writer().write([intent(put('c', 12, 'update'))])).stale).toHaveLength(1);
    expect(await item('c')).toBeUndefined();
  });

  it('reports a delete older than a remembered one as stale, not written: what was written per item only moves forward', async () => {
    await writer().write([intent(del('e', 31))]);
    const late = await writer().write([intent(del('e', 30))]);
    expect([late.written.length, late.stale.length]).toEqual([0, 1]);
  });

  it('remembers a delete outside the target table, with an expiry, so readers see nothing new', async () => {
    await writer().write([intent(put('d', 20, 'create'))]);
    await writer().write([intent(del('d', 21))]);
    expect((await scanAll(target)).map((i) => i.pk)).not.toContain('d');
    const record = (
      await raw.send(
        new GetItemCommand({
          TableName: deletesTable,
          Key: { id: { S: deleteId(target, { pk: 'd' }, { pk: { S: 'd' } }) } },
          ConsistentRead: true,
        }),
      )
    ).Item;
    expect(record?._ferry_version?.S).toBe(intent(del('d', 21)).event.position.version);
    const days = (Number(record?.expiresAt?.N) - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });

  it('ends every item as its newest change left it, in any arrival order, with two writers at once', async () => {
    const keys = ['k0', 'k1', 'k2'];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(drawnChange(keys), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        async (drawn, order, writerOf) => {
          run++;
          const history = historyOf(drawn, run);
          const lanes: Change[][] = [[], []];
          arrivalOf(history, order).forEach((c, i) => lanes[writerOf[i] ? 1 : 0]?.push(c));
          // What each writer reports as written, per key in the order it reported it: the change feed
          // of one source partition. Across writers, replies may arrive in another order than the writes.
          const written = new Map<string, number[]>();
          await Promise.all(
            lanes.map(async (lane, l) => {
              for (const c of lane)
                for (const w of (await writer().write([intent(c)])).written)
                  written.set(`${l}:${c.key}`, [
                    ...(written.get(`${l}:${c.key}`) ?? []),
                    Number(w.event.origin.offset),
                  ]);
            }),
          );
          await expectNewest(history, keys, run);
          for (const positions of written.values()) expect(positions).toEqual([...positions].sort((a, b) => a - b));
        },
      ),
      { numRuns: 40, seed: Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 120_000);
});

describe("a rebuild's batch writer (DynamoDB Local)", () => {
  const batchWriter = () => new BatchRebuildWriter(lean(), options, writer());

  it.each([
    ['reading the versions of every key', 'b', () => batchWriter()],
    // Keys of their own: to this writer the table is new.
    [
      'into a table it created, reading only the keys it may have written',
      'f',
      () => new BatchRebuildWriter(lean(), options, writer(), undefined, new WrittenKeys()),
    ],
  ])(
    'ends every item as its newest change left it, in any arrival order and any chunking, %s',
    async (_how, prefix, make) => {
      const keys = [0, 1, 2].map((i) => `${prefix}${i}`);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(drawnChange(keys), { minLength: 1, maxLength: 12 }),
          fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
          fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
          async (drawn, order, cutAfter) => {
            run++;
            const history = historyOf(drawn, run);
            // Chunks of one item per key, as coalescing leaves them, cut at random too.
            const chunks: Change[][] = [[]];
            arrivalOf(history, order).forEach((c, i) => {
              const chunk = chunks.at(-1) as Change[];
              if (chunk.some((o) => o.key === c.key) || cutAfter[i]) chunks.push([c]);
              else chunk.push(c);
            });
            const w = make();
            // Several partitions' chunks at once: the writer takes them one at a time.
            await Promise.all(chunks.map((chunk) => w.write(chunk.map((c) => intent(c)))));
            await expectNewest(history, keys, run);
          },
        ),
        { numRuns: 40, seed: Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31) },
      );
    },
    120_000,
  );

  it('into a table it created, reads no versions of keys it has not written yet, nor of keys it has just written', async () => {
    const reads: string[][] = [];
    const client = lean();
    const counting: DynamoDbBatches = {
      batchWriteItem: (input) => client.batchWriteItem(input),
      batchGetItem: (input) => {
        reads.push(
          Object.values(input.RequestItems ?? {}).flatMap((r) => (r.Keys ?? []).map((k) => JSON.stringify(k))),
        );
        return client.batchGetItem(input);
      },
    };
    const w = new BatchRebuildWriter(counting, options, writer(), undefined, new WrittenKeys());
    await w.write([intent(put('n1', 10, 'create')), intent(put('n2', 11, 'create'))]);
    expect(reads).toEqual([]);
    // n1 again, known as written, and a new n3: nothing is read.
    await w.write([intent(put('n1', 12)), intent(put('n3', 13, 'create'))]);
    expect(reads).toEqual([]);
    expect((await item('n1'))?.n).toEqual({ N: '12' });
    expect((await item('n3'))?.n).toEqual({ N: '13' });
    // A writer that knows nothing of them (the table is not its own) reads them.
    await new BatchRebuildWriter(counting, options, writer()).write([intent(put('n1', 14))]);
    expect(reads.flat().filter((k) => k.includes('n1')).length).toBeGreaterThan(0);
    expect((await item('n1'))?.n).toEqual({ N: '14' });
  });

  it('writes what the conditional writer would, batch by batch; an item DynamoDB refuses goes back through it alone', async () => {
    const many = Array.from({ length: 60 }, (_, i) => intent(put(`m${i}`, 2000 + i, 'snapshot')));
    const huge = intent(put('huge', 3000, 'snapshot'));
    if (huge.kind === 'put') huge.attributes.blob = { S: 'x'.repeat(410 * 1024) };
    const result = await batchWriter().write([...many, huge]);
    expect(result.written).toHaveLength(60);
    expect(result.failed.map((f) => [f.intent.key, f.error.retriable])).toEqual([[{ pk: 'huge' }, false]]);
    // A key DynamoDB refuses even to read: the chunk goes through the conditional writer, which dead-letters that one.
    const empty = intent(put('', 3001, 'snapshot'));
    const readRefused = await batchWriter().write([intent(put('r1', 3002, 'snapshot')), empty]);
    expect(readRefused.written.map((i) => i.key)).toEqual([{ pk: 'r1' }]);
    expect(readRefused.failed.map((f) => [f.intent.key, f.error.retriable])).toEqual([[{ pk: '' }, false]]);
    expect((await item('m59'))?.n).toEqual({ N: '2059' });
    // Deletes are remembered as the worker remembers them: an older create after one stays out.
    await batchWriter().write([intent(del('m1', 4000))]);
    expect((await writer().write([intent(put('m1', 3999, 'create'))])).stale).toHaveLength(1);
    expect(await item('m1')).toBeUndefined();
  }, 60_000);
});

describe('source positions that cannot be compared (DynamoDB Local)', () => {
  const blockedOnce = async (change: WriteIntent) => {
    const errors: string[] = [];
    let checks = 0;
    const writing = writer().write([change], {
      shouldStop: () => ++checks > 1,
      onRetry: (err) => errors.push((err as Error).message),
    });
    await expect(writing).rejects.toThrow('retry abandoned');
    return errors;
  };

  it('refuses, blocking, to compare with a version of another format', async () => {
    await raw.send(
      new PutItemCommand({
        TableName: target,
        Item: { pk: { S: 'old' }, _ferry_version: { S: '0000000001-00000000000000000001-0000000000-2' } },
      }),
    );
    const errors = await blockedOnce(intent(put('old', 1, 'update')));
    expect(errors[0]).toMatch(/holds _ferry_version "0000000001-.*not in format v1:.*rebuild/);
  });

  it("blocks when a change later by the clock is earlier in the binlog: the source's binlog restarted", async () => {
    await writer().write([intent(put('r', 500, 'create'), 57)]);
    const heldAt = START_MS + 500 * 1000;
    // A replay of an old change is stale, as always.
    expect((await writer().write([intent(put('r', 400), 57, heldAt - 3_600_000)])).stale).toHaveLength(1);
    // After RESET MASTER the binlog starts again at file 1, while time goes on.
    const errors = await blockedOnce(intent(put('r', 4), 1, heldAt + 10 * 60_000));
    expect(errors[0]).toMatch(/source position went back.*binlog restarted/);
    // The same holds for a remembered delete.
    await writer().write([intent(del('r', 600), 57, heldAt + 60_000)]);
    const afterDelete = await blockedOnce(intent(put('r', 5, 'create'), 1, heldAt + 20 * 60_000));
    expect(afterDelete[0]).toMatch(/source position went back/);
  });
});
