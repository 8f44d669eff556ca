import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mapConcurrent } from '../../core/concurrency';
import type { SinkWriteError } from '../../core/errors';
import type { FerryEvents } from '../../core/events';
import { type RetryOptions, createRetry } from '../../core/retry';
import type { WriteIntent } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../mapping/apply-mapping';
import { classifyDynamoDbError, isThrottle } from './errors';

/** The narrow port the writer needs; a wrapper handed a client does not own it. */
export type DynamoDbPort = Pick<DynamoDBClient, 'send'>;

export interface WriteResult {
  /** Items put or deleted. */
  written: WriteIntent[];
  /** Skipped because the item already holds state from a newer source position. */
  stale: WriteIntent[];
  /** Rejected for good (e.g. an invalid item): these go to the dead letters. */
  failed: Array<{ intent: WriteIntent; error: SinkWriteError }>;
}

/** How the caller follows and stops a write that keeps failing. */
export interface WriteControl {
  /** Asked before and after each backoff; true abandons the write. */
  shouldStop?: () => boolean | Promise<boolean>;
  /** Ends a backoff at once and abandons the write: a stop, or a revoked partition. */
  signal?: AbortSignal;
  /** A retriable failure, with an intent it failed on: the partition is blocked until it clears. */
  onRetry?: (error: unknown, intent: WriteIntent) => void;
}

export interface WriterOptions {
  concurrency: number;
  retry?: Partial<RetryOptions>;
}

// A write applies only over an item from the same or an older source position, so duplicates
// and replays are harmless and a replay of the same position can rewrite with a fixed mapping.
export const VERSION_GUARD = 'attribute_not_exists(#v) OR #v <= :v';

/** The condition parts of a version-guarded request. */
export const versionGuard = (version: string) => ({
  ConditionExpression: VERSION_GUARD,
  ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
  ExpressionAttributeValues: { ':v': { S: version } },
});

/**
 * Version-guarded writes. BatchWriteItem cannot carry conditions, so each item is one
 * conditional PutItem/DeleteItem, run with bounded concurrency; intents arrive coalesced,
 * one per item, so running them in parallel cannot reorder writes to the same key. Items arrive
 * prepared (see mapping/prepare-item): what is sent is exactly what verify expects.
 */
export class DynamoDbWriter {
  constructor(
    private readonly client: DynamoDbPort,
    private readonly options: WriterOptions,
    private readonly events?: FerryEvents,
  ) {}

  /** Returns when every intent is written, stale or failed for good; retriable errors are retried until `shouldStop`. */
  async write(intents: WriteIntent[], control: WriteControl = {}): Promise<WriteResult> {
    const result: WriteResult = { written: [], stale: [], failed: [] };
    let pending = intents;
    let blockedOn: WriteIntent | undefined;
    const retry = createRetry({
      ...this.options.retry,
      shouldStop: control.shouldStop,
      signal: control.signal,
      onRetry: (err, attempt, delayMs) => {
        this.events?.emit('sink.retry', { error: err, attempt, delayMs });
        if (blockedOn) control.onRetry?.(err, blockedOn);
      },
    });
    await retry(async () => {
      const outcomes = await mapConcurrent(pending, this.options.concurrency, (intent) => this.writeOne(intent));
      const again: WriteIntent[] = [];
      let lastError: SinkWriteError | undefined;
      outcomes.forEach((outcome, i) => {
        const intent = pending[i] as WriteIntent;
        if (outcome === 'written') result.written.push(intent);
        else if (outcome === 'stale') result.stale.push(intent);
        else if (outcome.retriable) {
          again.push(intent);
          lastError = outcome;
          blockedOn = intent;
        } else result.failed.push({ intent, error: outcome });
      });
      pending = again;
      if (lastError) throw lastError;
    });
    return result;
  }

  private async writeOne(intent: WriteIntent): Promise<'written' | 'stale' | SinkWriteError> {
    const guard = { TableName: intent.table, ...versionGuard(intent.event.position.version) };
    try {
      if (intent.kind === 'put') {
        const version = { S: intent.event.position.version };
        await this.client.send(
          new PutItemCommand({ ...guard, Item: { ...intent.attributes, [VERSION_ATTRIBUTE]: version } }),
        );
      } else {
        await this.client.send(new DeleteItemCommand({ ...guard, Key: intent.keyAttributes }));
      }
      return 'written';
    } catch (err) {
      if (isThrottle(err)) this.events?.emit('sink.throttled', { table: intent.table });
      return classifyDynamoDbError(err, intent.table);
    }
  }
}
