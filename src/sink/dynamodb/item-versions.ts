import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeMap } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../core/version';
import type { DynamoDbPort } from './dynamodb-writer';
import { classifyDynamoDbError } from './errors';

/** Whether an item is there, and the version it was written from. */
export type HeldVersion = { found: false } | { found: true; version?: string };

/** Reads the version of one item: a strongly consistent GetItem of its key and version alone. */
export class DynamoDbItemVersions {
  constructor(private readonly client: DynamoDbPort) {}

  async versionOf(table: string, key: AttributeMap): Promise<HeldVersion> {
    // The key is read too, so an item without a version still comes back.
    const names = Object.keys(key);
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: table,
          Key: key,
          ConsistentRead: true,
          ProjectionExpression: ['#v', ...names.map((_, i) => `#k${i}`)].join(', '),
          ExpressionAttributeNames: Object.fromEntries([
            ['#v', VERSION_ATTRIBUTE],
            ...names.map((name, i) => [`#k${i}`, name]),
          ]) as Record<string, string>,
        }),
      );
      return Item === undefined ? { found: false } : { found: true, version: Item[VERSION_ATTRIBUTE]?.S };
    } catch (err) {
      throw classifyDynamoDbError(err, table);
    }
  }
}
