import { CreateTableCommand, GetItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/config';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { versionGuard } from '../../src/sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError, isConditionFailure, isThrottle } from '../../src/sink/dynamodb/errors';
import {
  type DynamoDbBatches,
  type DynamoDbWrites,
  LeanDynamoDb,
  sdkBatches,
  sdkWrites,
} from '../../src/sink/dynamodb/lean-client';
import { dropTable, dynamoDb, stack, uniqueId } from '../support/stack';
import { type ThrottleProxy, startThrottleProxy } from '../support/throttle-proxy';

/**
 * The lean client is a drop-in for the SDK on the write path: the same operations against
 * DynamoDB Local give the same items and the same errors, classified alike.
 */
describe('integration > lean writes against the SDK', () => {
  const table = `ferry-test-lean-${uniqueId()}`;
  const configFor = (endpoint: string) =>
    loadConfig({ env: { FERRY_DYNAMODB_ENDPOINT: endpoint, FERRY_DYNAMODB_REQUEST_TIMEOUT_MS: '3000' } }).dynamodb;
  const clients = (endpoint: string): Array<[string, DynamoDbWrites & DynamoDbBatches]> => {
    const sdk = createDynamoDbClient(configFor(endpoint));
    return [
      ['sdk', { ...sdkWrites(sdk), ...sdkBatches(sdk) }],
      ['lean', new LeanDynamoDb(configFor(endpoint))],
    ];
  };
  const { raw } = dynamoDb();

  beforeAll(async () => {
    await raw.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilTableExists({ client: raw, maxWaitTime: 30 }, { TableName: table });
  });
  afterAll(() => dropTable(table));

  const item = (pk: string, version: string) => ({
    pk: { S: pk },
    sk: { S: 'ROW' },
    n: { N: '12345678901234567890.5' },
    bytes: { B: new Uint8Array([0, 1, 254, 255]) },
    set: { SS: ['a', 'b'] },
    map: { M: { nested: { L: [{ BOOL: true }, { NULL: true }] } } },
    _ferry_version: { S: version },
  });
  const get = async (pk: string) =>
    (
      await raw.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: 'ROW' } }, ConsistentRead: true }),
      )
    ).Item;
  /** What a failure looks like to the writer: its name, status, class and the item it carries. */
  const outcome = async (call: Promise<unknown>) => {
    try {
      const answer = await call;
      return answer === undefined ? 'ok' : answer;
    } catch (err) {
      const e = err as {
        name: string;
        $metadata?: { httpStatusCode?: number };
        Item?: unknown;
        CancellationReasons?: Array<{ Code?: string }>;
      };
      return {
        name: e.name,
        status: e.$metadata?.httpStatusCode,
        condition: isConditionFailure(err),
        throttle: isThrottle(err),
        retriable: isConditionFailure(err) ? undefined : classifyDynamoDbError(err, table).retriable,
        item: e.Item && (({ pk: _pk, ...rest }: Record<string, unknown>) => rest)(e.Item as Record<string, unknown>),
        reasons: e.CancellationReasons?.map((r) => r.Code),
      };
    }
  };

  it('writes the same items and fails the same ways, error for error', async () => {
    const results: Record<string, unknown[]> = {};
    for (const [name, client] of clients(stack.dynamoDbEndpoint)) {
      const pk = `${name}-1`;
      const v = (n: number) => `v1:${String(n).padStart(10, '0')}`;
      results[name] = [
        await outcome(client.putItem({ TableName: table, Item: item(pk, v(2)), ...versionGuard(v(2)) })),
        (({ pk: _k, ...rest }) => rest)((await get(pk)) ?? {}),
        // An older version loses its condition, and the item it lost to comes back.
        await outcome(client.putItem({ TableName: table, Item: item(pk, v(1)), ...versionGuard(v(1)) })),
        await outcome(
          client.transactWriteItems({
            TransactItems: [
              { Put: { TableName: table, Item: item(`${pk}-t`, v(1)), ...versionGuard(v(1)) } },
              { ConditionCheck: { TableName: table, Key: { pk: { S: pk }, sk: { S: 'ROW' } }, ...versionGuard(v(1)) } },
            ],
          }),
        ),
        // Invalid: an empty key value; a key of the wrong type.
        await outcome(client.putItem({ TableName: table, Item: { pk: { S: '' }, sk: { S: 'ROW' } } })),
        await outcome(client.putItem({ TableName: table, Item: { pk: { N: '1' }, sk: { S: 'ROW' } } })),
        await outcome(client.putItem({ TableName: `${table}-missing`, Item: item(pk, v(3)) })),
        await outcome(
          client.deleteItem({ TableName: table, Key: { pk: { S: pk }, sk: { S: 'ROW' } }, ...versionGuard(v(1)) }),
        ),
        await outcome(
          client.deleteItem({ TableName: table, Key: { pk: { S: pk }, sk: { S: 'ROW' } }, ...versionGuard(v(3)) }),
        ),
        (await get(pk)) ?? 'deleted',
      ];
    }
    expect(results.lean).toEqual(results.sdk);
    // And they are what the writer expects.
    expect(results.sdk?.[0]).toBe('ok');
    expect(results.sdk?.[2]).toMatchObject({ name: 'ConditionalCheckFailedException', condition: true });
    expect(results.sdk?.[3]).toMatchObject({
      name: 'TransactionCanceledException',
      reasons: ['None', 'ConditionalCheckFailed'],
    });
    expect(results.sdk?.[4]).toMatchObject({ name: 'ValidationException', retriable: false });
    expect(results.sdk?.[5]).toMatchObject({ name: 'ValidationException', retriable: true });
    expect(results.sdk?.[6]).toMatchObject({ name: 'ResourceNotFoundException', retriable: true });
    expect(results.sdk?.[8]).toBe('ok');
    expect(results.sdk?.[9]).toBe('deleted');
  });

  it("batches (a rebuild's writes and reads): the same answers and the same errors", async () => {
    const results: Record<string, unknown[]> = {};
    for (const [name, client] of clients(stack.dynamoDbEndpoint)) {
      const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'ROW' } });
      const [a, b, gone] = ['a', 'b', 'gone'].map((k) => `${name}-batch-${k}`) as [string, string, string];
      const byPk = (items: Array<Record<string, { S?: string }>> = []) =>
        items
          .map(({ pk, ...rest }) => ({ pk: pk?.S?.replace(`${name}-`, ''), ...rest }))
          .sort((x, y) => String(x.pk).localeCompare(String(y.pk)));
      const read = async (keys: string[], projection = false) => {
        const answer = await client.batchGetItem({
          RequestItems: {
            [table]: {
              Keys: keys.map(key),
              ConsistentRead: true,
              ...(projection
                ? { ProjectionExpression: 'pk, #v', ExpressionAttributeNames: { '#v': '_ferry_version' } }
                : {}),
            },
          },
        });
        return { items: byPk(answer.Responses?.[table]), unprocessed: answer.UnprocessedKeys };
      };
      results[name] = [
        await outcome(
          client.batchWriteItem({
            RequestItems: {
              [table]: [
                { PutRequest: { Item: item(a, 'v1:1') } },
                { PutRequest: { Item: item(b, 'v1:2') } },
                { PutRequest: { Item: item(gone, 'v1:3') } },
              ],
            },
          }),
        ),
        await outcome(client.batchWriteItem({ RequestItems: { [table]: [{ DeleteRequest: { Key: key(gone) } }] } })),
        // Bytes, numbers, sets and maps come back as they went; a key not there is left out.
        await read([a, b, gone]),
        await read([a, gone], true),
        // Invalid: the same key twice in one request; an empty key value; a key of the wrong type; no table.
        await outcome(
          client.batchWriteItem({
            RequestItems: { [table]: [{ PutRequest: { Item: item(a, 'v1:4') } }, { DeleteRequest: { Key: key(a) } }] },
          }),
        ),
        await outcome(
          client.batchWriteItem({ RequestItems: { [table]: [{ PutRequest: { Item: item('', 'v1:5') } }] } }),
        ),
        await outcome(
          client.batchGetItem({ RequestItems: { [table]: { Keys: [{ pk: { N: '1' }, sk: { S: 'ROW' } }] } } }),
        ),
        await outcome(
          client.batchWriteItem({
            RequestItems: { [`${table}-missing`]: [{ PutRequest: { Item: item(a, 'v1:6') } }] },
          }),
        ),
        await outcome(client.batchGetItem({ RequestItems: { [`${table}-missing`]: { Keys: [key(a)] } } })),
        (({ pk: _pk, ...rest }) => rest)((await get(a)) ?? {}),
      ];
    }
    expect(results.lean).toEqual(results.sdk);
    // And they are what the rebuild's writer expects.
    expect(results.sdk?.[0]).toMatchObject({ UnprocessedItems: {} });
    expect(results.sdk?.[2]).toMatchObject({ items: [{ pk: 'batch-a' }, { pk: 'batch-b' }], unprocessed: {} });
    expect((results.sdk?.[2] as { items: Array<{ bytes: unknown }> }).items[0]?.bytes).toEqual({
      B: new Uint8Array([0, 1, 254, 255]),
    });
    expect(results.sdk?.[3]).toEqual({ items: [{ pk: 'batch-a', _ferry_version: { S: 'v1:1' } }], unprocessed: {} });
    for (const n of [4, 5]) expect(results.sdk?.[n]).toMatchObject({ name: 'ValidationException', retriable: false });
    expect(results.sdk?.[6]).toMatchObject({ name: 'ValidationException', retriable: true });
    for (const n of [7, 8])
      expect(results.sdk?.[n]).toMatchObject({ name: 'ResourceNotFoundException', retriable: true });
    expect(results.sdk?.[9]).toMatchObject({ _ferry_version: { S: 'v1:1' } });
  });

  describe('behind a proxy that throttles every write', () => {
    let proxy: ThrottleProxy;
    beforeAll(async () => (proxy = await startThrottleProxy(stack.dynamoDbEndpoint, 1)));
    afterAll(() => proxy.close());

    it('both see a throttle, retriable', async () => {
      const seen = [];
      for (const [, client] of clients(proxy.url))
        seen.push([
          await outcome(client.putItem({ TableName: table, Item: item('throttled', 'v1:1') })),
          await outcome(
            client.batchWriteItem({ RequestItems: { [table]: [{ PutRequest: { Item: item('throttled', 'v1:1') } }] } }),
          ),
        ]);
      expect(seen[1]).toEqual(seen[0]);
      for (const answer of seen[0] ?? [])
        expect(answer).toMatchObject({
          name: 'ProvisionedThroughputExceededException',
          throttle: true,
          retriable: true,
          status: 400,
        });
    }, 30_000);
  });
});
