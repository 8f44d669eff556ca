import type { CancellationReason, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDbConfig } from '../../config/config';
import { mapConcurrent } from '../../core/concurrency';
import { RetriesExhaustedError, SinkWriteError } from '../../core/errors';
import type { WriteControl, WriteResult } from '../../core/batch';
import type { FerryEvents } from '../../core/events';
import { type RetryOptions, createRetry } from '../../core/retry';
import { REGRESSION_MARGIN_MS, VERSION_ATTRIBUTE, VERSION_FORMAT, parseVersion } from '../../core/version';
import type { AttributeMap, WriteIntent } from '../../core/write-intent';
import { DELETE_KEY, type DeletesOptions, REMEMBERED_GUARD, deleteId, deleteRecord } from './deletes';
import { classifyDynamoDbError, isConditionFailure, isThrottle } from './errors';
import type { DynamoDbWrites } from './lean-client';

/** The narrow port the writer needs; a wrapper handed a client does not own it. */
export type DynamoDbPort = Pick<DynamoDBClient, 'send'>;

export interface WriterOptions {
  concurrency: number;
  /** Where deletes are remembered, and for how long (see deletes.ts). */
  deletes: DeletesOptions;
  retry?: Partial<RetryOptions>;
}

export const writerOptions = (config: DynamoDbConfig): WriterOptions => ({
  concurrency: config.writeConcurrency,
  deletes: { table: config.deletesTable, rememberDays: config.rememberDeletesDays },
});

// A write applies only over no item, or an item of this version format from the same or an older
// source position: duplicates and replays are harmless, and a replay of the same position can
// rewrite with a fixed mapping.
const GUARD = 'attribute_not_exists(#v) OR (begins_with(#v, :f) AND #v <= :v)';
// An update expects the item: one request when it is there; when it is not, the create path runs.
const UPDATE_GUARD = 'attribute_exists(#v) AND begins_with(#v, :f) AND #v <= :v';

const conditionParts = (condition: string, version: string) => ({
  ConditionExpression: condition,
  ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
  ExpressionAttributeValues: { ':v': { S: version }, ':f': { S: VERSION_FORMAT } },
  // The item that failed the condition comes back, so a stale write is told from a missing item
  // or a source whose positions went back, at no extra request.
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
});

/** Retries as the caller asks, counting each round and naming the intent the partition is blocked on. */
export const writeRetry = (
  options: WriterOptions,
  control: WriteControl,
  blockedOn: () => WriteIntent | undefined,
  events?: FerryEvents,
) =>
  createRetry({
    ...options.retry,
    shouldStop: control.shouldStop,
    signal: control.signal,
    onRetry: (err, attempt, delayMs) => {
      events?.emit('sink.retry', { error: err, attempt, delayMs });
      const intent = blockedOn();
      if (intent) control.onRetry?.(err, intent);
    },
  });

/** The condition parts of a version-guarded request. */
export const versionGuard = (version: string) => conditionParts(GUARD, version);

type Outcome = 'written' | 'stale' | SinkWriteError;

/**
 * Version-guarded writes. BatchWriteItem cannot carry conditions, so each item is one
 * conditional request, run with bounded concurrency; intents arrive coalesced, one per item, so
 * running them in parallel cannot reorder writes to the same key. Items arrive prepared (see
 * mapping/prepare-item): what is sent is exactly what verify expects.
 *
 * Deletes are remembered (see deletes.ts): a delete records its version before it removes the
 * item, and a put that would create an item does so in one transaction with a check that no
 * newer delete of it is remembered. So an older change that arrives late (a redriven letter, an
 * evicted worker's last write, a replay) cannot bring a deleted item back.
 */
export class DynamoDbWriter {
  constructor(
    private readonly client: DynamoDbWrites,
    private readonly options: WriterOptions,
    private readonly events?: FerryEvents,
  ) {}

  /** Returns when every intent is written, stale or failed for good; retriable errors are retried until `shouldStop`. */
  async write(intents: WriteIntent[], control: WriteControl = {}): Promise<WriteResult> {
    const result: WriteResult = { written: [], stale: [], failed: [] };
    let pending = intents;
    let blockedOn: WriteIntent | undefined;
    const retry = writeRetry(this.options, control, () => blockedOn, this.events);
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
          // A systemic failure is what the round reports: no retry limit may dead-letter over it.
          if (!lastError?.systemic) [lastError, blockedOn] = [outcome, intent];
        } else result.failed.push({ intent, error: outcome });
      });
      pending = again;
      if (lastError) throw lastError;
    }).catch((err: unknown) => {
      // A retry limit (the mapping's `retry`) was reached: what still fails goes to the dead letters.
      if (!(err instanceof RetriesExhaustedError)) throw err;
      for (const intent of pending) result.failed.push({ intent, error: err });
      this.events?.emit('sink.retries-exhausted', { table: pending[0]?.table ?? '', items: pending.length });
    });
    return result;
  }

  private async writeOne(intent: WriteIntent): Promise<Outcome> {
    try {
      return intent.kind === 'put' ? await this.put(intent) : await this.delete(intent);
    } catch (err) {
      if (isThrottle(err)) this.events?.emit('sink.throttled', { table: intent.table });
      return classifyDynamoDbError(err, intent.table);
    }
  }

  private async put(intent: Extract<WriteIntent, { kind: 'put' }>): Promise<Outcome> {
    const { version } = intent.event.position;
    const Item = { ...intent.attributes, [VERSION_ATTRIBUTE]: { S: version } };
    if (intent.event.op === 'update' || intent.event.op === 'delete') {
      try {
        await this.client.putItem({ TableName: intent.table, Item, ...conditionParts(UPDATE_GUARD, version) });
        return 'written';
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const held = (err as { Item?: AttributeMap }).Item;
        if (held) return staleOrRefused(intent, held);
      }
    }
    // A create: only where no newer delete of the item is remembered.
    const deletes = this.options.deletes;
    try {
      await this.client.transactWriteItems({
        TransactItems: [
          { Put: { TableName: intent.table, Item, ...versionGuard(version) } },
          {
            ConditionCheck: {
              TableName: deletes.table,
              Key: { [DELETE_KEY]: { S: deleteId(intent.table, intent.key, intent.attributes) } },
              ...conditionParts(REMEMBERED_GUARD, version),
            },
          },
        ],
      });
      return 'written';
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      const [target, remembered] = reasons;
      if (target?.Code === 'ConditionalCheckFailed') return staleOrRefused(intent, target.Item);
      if (remembered?.Code === 'ConditionalCheckFailed') return staleOrRefused(intent, remembered.Item);
      throw err;
    }
  }

  private async delete(intent: Extract<WriteIntent, { kind: 'delete' }>): Promise<Outcome> {
    const { version } = intent.event.position;
    // Remembered before the item goes: a put that finds no item then finds this record.
    let newerDelete: Outcome | undefined;
    try {
      const { deletes } = this.options;
      const Item = deleteRecord(intent.table, intent.key, intent.keyAttributes, version, deletes);
      await this.client.putItem({ TableName: deletes.table, Item, ...versionGuard(version) });
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // A newer delete of the item is already remembered: this one is stale, though the item is
      // still deleted below if it holds an older version (that newer delete may not have got to it yet).
      const held = (err as { Item?: AttributeMap }).Item;
      newerDelete = held ? staleOrRefused(intent, held) : 'stale';
    }
    try {
      await this.client.deleteItem({ TableName: intent.table, Key: intent.keyAttributes, ...versionGuard(version) });
      return newerDelete ?? 'written';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return staleOrRefused(intent, (err as { Item?: AttributeMap }).Item);
    }
  }
}

/**
 * A write lost its condition to `held`, an item or remembered delete. Stale when `held` is newer
 * in the same format. Refused, blocking the partition, when `held` is in another version format,
 * or when the change is fresher than `held` by the clock yet older by binlog position: the
 * source's binlog restarted (RESET MASTER) or it failed over to another server, and every later
 * change would be dropped as stale. Row locks keep one row's binlog order in commit-time order,
 * so in a healthy source this does not happen beyond a long transaction's length.
 */
export function staleOrRefused(intent: WriteIntent, held: AttributeMap | undefined): Outcome {
  const text = held?.[VERSION_ATTRIBUTE]?.S;
  const stored = parseVersion(text);
  const where = `${intent.table} ${JSON.stringify(intent.key)}`;
  if (stored === undefined)
    return new SinkWriteError(
      `${where} holds ${VERSION_ATTRIBUTE} "${text}", not in format ${VERSION_FORMAT}: it was written by another ferry; rebuild the table (README, Runbook)`,
      { systemic: true },
    );
  const { position } = intent.event;
  if (!position.snapshot && position.committedAtMs > stored.committedAtMs + REGRESSION_MARGIN_MS)
    return new SinkWriteError(
      `source position went back: a change committed at ${new Date(position.committedAtMs).toISOString()} sits before ${where}'s ${text} in the binlog; the source's binlog restarted or it failed over: take a new snapshot and rebuild (README, Runbook: "A partition blocked on source position went back")`,
      { systemic: true },
    );
  return 'stale';
}

function cancellationReasons(err: unknown): CancellationReason[] | undefined {
  const { name, CancellationReasons } = (err ?? {}) as { name?: string; CancellationReasons?: CancellationReason[] };
  return name === 'TransactionCanceledException' ? CancellationReasons : undefined;
}
