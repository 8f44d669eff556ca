import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mapConcurrent } from '../../core/concurrency';
import { type SinkWriteError, isRetriable } from '../../core/errors';
import type { FerryEvents } from '../../core/events';
import { type RetryOptions, createRetry } from '../../core/retry';
import type { WriteIntent } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../mapping/apply-mapping';
import { classifyDynamoDbError, isConditionFailure, isThrottle } from './errors';

/** The narrow port the writer needs; a wrapper handed a client does not own it. */
export type DocClient = Pick<DynamoDBDocumentClient, 'send'>;

export interface WriteResult {
  /** Items put or deleted. */
  written: WriteIntent[];
  /** Skipped because the item already holds state from a newer source position. */
  stale: WriteIntent[];
  /** Rejected for good (e.g. an invalid item): these go to the dead letters. */
  failed: Array<{ intent: WriteIntent; error: SinkWriteError }>;
}

export interface WriterOptions {
  concurrency: number;
  retry?: Partial<RetryOptions>;
}

// A write applies only over an item from the same or an older source position, so duplicates
// and replays are harmless and a replay of the same position can rewrite with a fixed mapping.
const GUARD = 'attribute_not_exists(#v) OR #v <= :v';

/**
 * Version-guarded writes. BatchWriteItem cannot carry conditions, so each item is one
 * conditional PutItem/DeleteItem, run with bounded concurrency; intents arrive coalesced,
 * one per item, so running them in parallel cannot reorder writes to the same key.
 */
export class DynamoDbWriter {
  constructor(
    private readonly client: DocClient,
    private readonly options: WriterOptions,
    private readonly events?: FerryEvents,
  ) {}

  /** Returns when every intent is written, stale or failed for good; retriable errors are retried until `shouldStop`. */
  async write(intents: WriteIntent[], shouldStop?: () => boolean | Promise<boolean>): Promise<WriteResult> {
    const result: WriteResult = { written: [], stale: [], failed: [] };
    let pending = intents;
    const retry = createRetry({
      ...this.options.retry,
      shouldStop,
      onRetry: (err, attempt, delayMs) => this.events?.emit('sink.retry', { error: err, attempt, delayMs }),
    });
    await retry(async () => {
      const outcomes = await mapConcurrent(pending, this.options.concurrency, (intent) => this.writeOne(intent));
      const again: WriteIntent[] = [];
      let lastError: SinkWriteError | undefined;
      outcomes.forEach((outcome, i) => {
        const intent = pending[i] as WriteIntent;
        if (outcome === 'written') result.written.push(intent);
        else if (outcome === 'stale') result.stale.push(intent);
        else if (isRetriable(outcome)) {
          again.push(intent);
          lastError = outcome;
        } else result.failed.push({ intent, error: outcome });
      });
      pending = again;
      if (lastError) throw lastError;
    });
    return result;
  }

  private async writeOne(intent: WriteIntent): Promise<'written' | 'stale' | SinkWriteError> {
    const version = intent.event.position.version;
    const guard = {
      TableName: intent.table,
      ConditionExpression: GUARD,
      ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
      ExpressionAttributeValues: { ':v': version },
    };
    try {
      if (intent.kind === 'put') {
        await this.client.send(new PutCommand({ ...guard, Item: { ...intent.item, [VERSION_ATTRIBUTE]: version } }));
      } else {
        await this.client.send(new DeleteCommand({ ...guard, Key: intent.key }));
      }
      return 'written';
    } catch (err) {
      if (isConditionFailure(err)) return 'stale';
      if (isThrottle(err)) this.events?.emit('sink.throttled', { table: intent.table });
      return classifyDynamoDbError(err, intent.table);
    }
  }
}
