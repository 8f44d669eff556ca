import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeMap } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../core/version';
import type { DynamoDbPort } from './dynamodb-writer';
import { classifyDynamoDbError } from './errors';

/** A read of an item's key attributes and version alone: an item without a version still comes back. */
export const versionProjection = (keyNames: string[]) => ({
  ProjectionExpression: ['#v', ...keyNames.map((_, i) => `#k${i}`)].join(', '),
  ExpressionAttributeNames: Object.fromEntries([
    ['#v', VERSION_ATTRIBUTE],
    ...keyNames.map((name, i) => [`#k${i}`, name]),
  ]) as Record<string, string>,
});

/** Whether an item is there, and the version it was written from. */
export type HeldVersion = { found: false } | { found: true; version?: string };

/** Reads the version of one item: a strongly consistent GetItem of its key and version alone. */
export class DynamoDbItemVersions {
  constructor(private readonly client: DynamoDbPort) {}

  async versionOf(table: string, key: AttributeMap): Promise<HeldVersion> {
    const names = Object.keys(key);
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: table,
          Key: key,
          ConsistentRead: true,
          ...versionProjection(names),
        }),
      );
      return Item === undefined ? { found: false } : { found: true, version: Item[VERSION_ATTRIBUTE]?.S };
    } catch (err) {
      throw classifyDynamoDbError(err, table);
    }
  }
}
