import type { BatchGetItemCommandInput, BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { ChangeEvent } from '../../src/core/change-event';
import { formatVersion } from '../../src/core/version';
import type { WriteIntent } from '../../src/core/write-intent';
import { BatchRebuildWriter } from '../../src/sink/dynamodb/batch-writer';
import type { DynamoDbBatches } from '../../src/sink/dynamodb/lean-client';
import { KnownStates, WrittenKeys } from '../../src/sink/dynamodb/written-keys';

const put = (key: string, pos: number): WriteIntent => {
  const event: ChangeEvent = {
    op: 'create',
    table: 'db.t',
    before: null,
    after: null,
    position: { version: formatVersion(1, pos, 0, 2, 0), snapshot: false, committedAtMs: 0 },
    origin: { topic: 't', partition: 0, offset: String(pos) },
  };
  return { kind: 'put', table: 'items', key: { pk: key }, item: { pk: key }, attributes: { pk: { S: key } }, event };
};

/** A DynamoDB that answers every batch after a tick, recording what was in flight. */
function slowDynamoDb() {
  const log: string[] = [];
  let inFlight = 0;
  let most = 0;
  const answer = async (kind: 'write' | 'read', keys: unknown[]) => {
    most = Math.max(most, ++inFlight);
    log.push(`${kind} ${keys.join(',')} start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.push(`${kind} ${keys.join(',')} end`);
    inFlight--;
  };
  const port = {
    batchWriteItem: async (input: BatchWriteItemCommandInput) => {
      await answer(
        'write',
        Object.values(input.RequestItems ?? {}).flatMap((w) => w.map((r) => r.PutRequest?.Item?.pk?.S)),
      );
      return { UnprocessedItems: {} };
    },
    batchGetItem: async (input: BatchGetItemCommandInput) => {
      await answer(
        'read',
        Object.values(input.RequestItems ?? {}).flatMap((r) => (r.Keys ?? []).map((k) => k.pk?.S)),
      );
      return { Responses: {}, UnprocessedKeys: {} };
    },
  } satisfies DynamoDbBatches;
  return { port, log, most: () => most };
}

const conditional = { write: async () => ({ written: [], stale: [], failed: [] }) };
const options = { concurrency: 8, deletes: { table: 'deletes', rememberDays: 1 } };

describe('BatchRebuildWriter', () => {
  it('writes chunks that share no key at the same time', async () => {
    const dynamo = slowDynamoDb();
    const writer = new BatchRebuildWriter(dynamo.port, options, conditional, undefined, new WrittenKeys(12));
    await Promise.all([writer.write([put('a', 1)]), writer.write([put('b', 2)])]);
    expect(dynamo.most()).toBe(2);
  });

  it('writes a key in one chunk at a time: the next chunk writes it only once the first has, and knows it without a read', async () => {
    const dynamo = slowDynamoDb();
    const writer = new BatchRebuildWriter(dynamo.port, options, conditional, undefined, new WrittenKeys(12));
    await Promise.all([writer.write([put('a', 1), put('b', 2)]), writer.write([put('a', 3)])]);
    const firstWriteEnd = dynamo.log.indexOf('write a,b end');
    const secondWrite = dynamo.log.indexOf('write a start');
    expect(firstWriteEnd).toBeGreaterThanOrEqual(0);
    expect(secondWrite).toBeGreaterThan(firstWriteEnd);
    expect(dynamo.log.filter((line) => line.startsWith('read'))).toEqual([]);
  });

  it('reads a key again once its chunk failed: what the table holds of it is not known then', async () => {
    const dynamo = slowDynamoDb();
    let fail = false;
    const failing: DynamoDbBatches = {
      batchWriteItem: async (input) => {
        if (fail) throw Object.assign(new Error('no'), { name: 'ValidationException' });
        return dynamo.port.batchWriteItem(input);
      },
      batchGetItem: (input) => dynamo.port.batchGetItem(input),
    };
    const writer = new BatchRebuildWriter(failing, options, conditional);
    await writer.write([put('a', 1)]);
    fail = true;
    await writer.write([put('a', 2)]);
    fail = false;
    await writer.write([put('a', 3)]);
    // Read for the first chunk, not for the second (known), and again for the third: the second failed.
    expect(dynamo.log.filter((line) => line === 'read a start')).toHaveLength(2);
  });

  it('reads every key when it was not given the keys it wrote (a table it did not create)', async () => {
    const dynamo = slowDynamoDb();
    const writer = new BatchRebuildWriter(dynamo.port, options, conditional);
    await writer.write([put('a', 1)]);
    expect(dynamo.log.some((line) => line.startsWith('read a'))).toBe(true);
  });
});

describe('KnownStates', () => {
  it('keeps the keys used last, up to its capacity', () => {
    const known = new KnownStates(2);
    known.set('a', { item: 'v1' });
    known.set('b', { deleted: 'v2' });
    expect(known.get('a')).toEqual({ item: 'v1' });
    known.set('c', { item: 'v3' });
    expect([known.get('a'), known.get('b'), known.get('c')]).toEqual([{ item: 'v1' }, undefined, { item: 'v3' }]);
    known.forget('a');
    expect(known.get('a')).toBeUndefined();
  });
});
