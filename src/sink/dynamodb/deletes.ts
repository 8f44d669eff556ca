import { createHash } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../../core/errors';
import type { AttributeMap } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../core/version';

/**
 * Remembered deletes. A delete removes an item and its `_ferry_version`, so by itself it leaves
 * nothing for an older put to lose against. ferry therefore records each delete's version, keyed
 * by the target table and item key, in a table of its own (readers of the target see nothing
 * new), and a put that would create an item checks that record in the same transaction. A
 * record lives `rememberDays` (DynamoDB TTL), counted from when the delete was written.
 */
export interface DeletesOptions {
  table: string;
  rememberDays: number;
}

/** The record's key: a hash of the target table and the item key, so any key fits. */
export const DELETE_KEY = 'id';
/** Epoch seconds after which DynamoDB's TTL may remove the record. */
export const EXPIRES_ATTRIBUTE = 'expiresAt';

/** A create is refused by a remembered delete of the same or a newer position. */
export const REMEMBERED_GUARD = 'attribute_not_exists(#v) OR (begins_with(#v, :f) AND #v < :v)';

/** One id per item: the table, then each key attribute by name, as DynamoDB holds it. */
export function deleteId(table: string, keyNames: Record<string, unknown>, attributes: AttributeMap): string {
  const hash = createHash('sha256').update(table);
  for (const name of Object.keys(keyNames).sort()) {
    const value = attributes[name];
    hash.update(`\u0000${name}\u0000`);
    if (value?.S !== undefined) hash.update(`S${value.S}`);
    else if (value?.N !== undefined) hash.update(`N${value.N}`);
    else if (value?.B !== undefined) hash.update('B').update(value.B);
  }
  return hash.digest('base64url');
}

export function deleteRecord(
  table: string,
  keyNames: Record<string, unknown>,
  keyAttributes: AttributeMap,
  version: string,
  options: DeletesOptions,
  nowMs = Date.now(),
): AttributeMap {
  return {
    [DELETE_KEY]: { S: deleteId(table, keyNames, keyAttributes) },
    [VERSION_ATTRIBUTE]: { S: version },
    table: { S: table },
    [EXPIRES_ATTRIBUTE]: { N: String(Math.ceil(nowMs / 1000) + options.rememberDays * 86_400) },
  };
}

/**
 * Checks the deletes table at start; creates it (on demand, with TTL) when `create` is set.
 * A missing or misshapen table is a configuration error that names the shape it needs.
 */
export async function ensureDeletesTable(client: DynamoDBClient, table: string, create: boolean): Promise<void> {
  const shape = `key ${DELETE_KEY} (string, partition key only), TTL on ${EXPIRES_ATTRIBUTE}`;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    const key = Table?.KeySchema ?? [];
    const type = Table?.AttributeDefinitions?.find((d) => d.AttributeName === DELETE_KEY)?.AttributeType;
    if (key.length !== 1 || key[0]?.AttributeName !== DELETE_KEY || type !== 'S')
      throw new ConfigError(`DynamoDB table ${table} (dynamodb.deletesTable) must have ${shape}`);
    return;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  if (!create)
    throw new ConfigError(
      `DynamoDB table ${table} (dynamodb.deletesTable), where ferry remembers deletes, does not exist: create it with ${shape}`,
    );
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: DELETE_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: DELETE_KEY, KeyType: 'HASH' }],
      }),
    );
  } catch (err) {
    // Another worker may have created it first.
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: EXPIRES_ATTRIBUTE },
      }),
    )
    .catch((err: { name?: string; message?: string }) => {
      // A concurrent creator enabled it already.
      if (err.name !== 'ValidationException' || !/already enabled/i.test(err.message ?? '')) throw err;
    });
}
