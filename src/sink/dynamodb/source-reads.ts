import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SourceRead, SourceReads } from '../../pipeline/source-order';
import { DELETE_KEY } from './deletes';
import type { DynamoDbPort } from './dynamodb-writer';
import { classifyDynamoDbError, isConditionFailure } from './errors';

/**
 * How far each partition has been read (pipeline/source-order), kept in the deletes table under
 * `read#<topic>#<partition>`, without an expiry: a worker that starts on a partition, after a
 * restart or a rebalance, checks its first changes against what was read before it. A mark only
 * moves forward: a process behind another (an evicted one's last batch) does not move it back.
 */
export class DynamoDbSourceReads implements SourceReads {
  constructor(
    private readonly client: DynamoDbPort,
    private readonly table: string,
  ) {}

  async load(topic: string, partition: number): Promise<SourceRead | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: this.key(topic, partition), ConsistentRead: true }),
      );
      if (!Item?.offset?.N || !Item.version?.S) return undefined;
      return {
        offset: Item.offset.N,
        version: Item.version.S,
        latestCommitMs: Number(Item.latestCommitMs?.N ?? 0),
        sequences: JSON.parse(Item.sequences?.S ?? '{}') as Record<string, string>,
      };
    } catch (err) {
      throw classifyDynamoDbError(err, this.table);
    }
  }

  async save(topic: string, partition: number, read: SourceRead): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...this.key(topic, partition),
            offset: { N: read.offset },
            version: { S: read.version },
            latestCommitMs: { N: String(read.latestCommitMs) },
            sequences: { S: JSON.stringify(read.sequences) },
          },
          ConditionExpression: 'attribute_not_exists(#o) OR #o < :o',
          ExpressionAttributeNames: { '#o': 'offset' },
          ExpressionAttributeValues: { ':o': { N: read.offset } },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw classifyDynamoDbError(err, this.table);
    }
  }

  private key(topic: string, partition: number) {
    return { [DELETE_KEY]: { S: `read#${topic}#${partition}` } };
  }
}
