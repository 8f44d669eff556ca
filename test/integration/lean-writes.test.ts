import { CreateTableCommand, GetItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/config';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { versionGuard } from '../../src/sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError, isConditionFailure, isThrottle } from '../../src/sink/dynamodb/errors';
import { type DynamoDbWrites, LeanDynamoDb, sdkWrites } from '../../src/sink/dynamodb/lean-client';
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
  const clients = (endpoint: string): Array<[string, DynamoDbWrites]> => [
    ['sdk', sdkWrites(createDynamoDbClient(configFor(endpoint)))],
    ['lean', new LeanDynamoDb(configFor(endpoint))],
  ];
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
  const outcome = async (call: Promise<void>) => {
    try {
      await call;
      return 'ok';
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

  describe('behind a proxy that throttles every write', () => {
    let proxy: ThrottleProxy;
    beforeAll(async () => (proxy = await startThrottleProxy(stack.dynamoDbEndpoint, 1)));
    afterAll(() => proxy.close());

    it('both see a throttle, retriable', async () => {
      const seen = [];
      for (const [, client] of clients(proxy.url))
        seen.push(await outcome(client.putItem({ TableName: table, Item: item('throttled', 'v1:1') })));
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[0]).toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        throttle: true,
        retriable: true,
        status: 400,
      });
    }, 30_000);
  });
});
