import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { KeyAttribute } from '../../core/write-intent';

export interface TableShape {
  table: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

/** Creates the table (on-demand capacity) if it does not exist and waits until it is active. */
export async function ensureTable(client: DynamoDBClient, shape: TableShape): Promise<'exists' | 'created'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: shape.table }));
    return 'exists';
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  const keys = [shape.partitionKey, shape.sortKey].filter((k): k is KeyAttribute => k !== undefined);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: shape.table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      }),
    );
  } catch (err) {
    // Another worker of the same mapping may have created it first.
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: shape.table });
  return 'created';
}
