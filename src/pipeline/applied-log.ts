import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Producer } from 'kafkajs';
import type { WriteControl, WriteResult } from '../core/batch';
import type { ChangeEvent, KafkaOrigin, Operation } from '../core/change-event';
import { describe } from '../core/errors';
import { createRetry } from '../core/retry';
import type { AttributeMap, WriteIntent } from '../core/write-intent';
import type { Mapping } from '../mapping/define-mapping';
import { MAX_SEND_BYTES, bounded, publishError } from './dead-letters';

export const appliedTopic = (topicPrefix: string, mapping: string) => `${topicPrefix}.applied.${mapping}`;

/**
 * What became of a change for one item: `superseded` when a later change of the same item in the
 * same chunk was written in its place (one write carries both); `filtered` when the mapping made
 * no item of it; `dead-lettered` when it went to the dead letters.
 */
export type AppliedOutcome = 'written' | 'stale' | 'superseded' | 'filtered' | 'dead-lettered';

/** A key attribute as DynamoDB's JSON protocol spells it; binary is base64. */
export type KeyJson = Record<string, { S: string } | { N: string } | { B: string }>;

/** One record of `<prefix>.applied.<mapping>`, in JSON. */
export interface AppliedRecord {
  mapping: string;
  table: string;
  /** The item's key; null for a change that made no item (filtered, or dead-lettered before mapping). */
  key: KeyJson | null;
  /** What was asked of the item: put or delete; null when no item. */
  operation: 'put' | 'delete' | null;
  outcome: AppliedOutcome;
  /** The change's source position (`_ferry_version`); null when the message could not be decoded. */
  version: string | null;
  /** The source operation; null when the message could not be decoded. */
  change: Operation | null;
  origin: KafkaOrigin;
  /** Source commit time, ISO; null when the message could not be decoded. */
  committedAt: string | null;
  /** When the outcome was durable (written to DynamoDB, or to the dead letters). */
  appliedAt: string;
  /** Why it was dead-lettered. */
  error?: string;
}

/** A message of a chunk, as the batch processor saw it: decoded or not, mapped to intents or not. */
export interface ChunkChange {
  origin: KafkaOrigin;
  event?: ChangeEvent;
  /** The mapping's intents for the event, in order (none: filtered). */
  intents?: WriteIntent[];
  /** Decoding or mapping failed: the message went to the dead letters. */
  error?: unknown;
}

/** Turns a chunk's changes and its write result into records, in the chunk's order. */
export function appliedRecords(
  mapping: Pick<Mapping, 'name' | 'targetTable' | 'partitionKey' | 'sortKey'>,
  changes: readonly ChunkChange[],
  result: WriteResult,
  appliedAt = new Date().toISOString(),
): AppliedRecord[] {
  const outcomes = new Map<WriteIntent, AppliedOutcome>();
  const errors = new Map<WriteIntent, unknown>();
  for (const intent of result.written) outcomes.set(intent, 'written');
  for (const intent of result.stale) outcomes.set(intent, 'stale');
  for (const { intent, error } of result.failed) {
    outcomes.set(intent, 'dead-lettered');
    errors.set(intent, error);
  }
  const keyNames = [mapping.partitionKey.name, ...(mapping.sortKey ? [mapping.sortKey.name] : [])];
  const records: AppliedRecord[] = [];
  for (const { origin, event, intents, error } of changes) {
    const base = {
      mapping: mapping.name,
      version: event?.position.version ?? null,
      change: event?.op ?? null,
      origin: { topic: origin.topic, partition: origin.partition, offset: origin.offset },
      committedAt: event ? new Date(event.position.committedAtMs).toISOString() : null,
      appliedAt,
    };
    if (error !== undefined || !intents || intents.length === 0) {
      records.push({
        ...base,
        table: mapping.targetTable,
        key: null,
        operation: null,
        outcome: error === undefined ? 'filtered' : 'dead-lettered',
        ...(error === undefined ? {} : { error: describe(error) }),
      });
      continue;
    }
    for (const intent of intents) {
      const attributes = intent.kind === 'put' ? intent.attributes : intent.keyAttributes;
      const failure = errors.get(intent);
      records.push({
        ...base,
        table: intent.table,
        key: keyJson(attributes, keyNames),
        operation: intent.kind,
        outcome: outcomes.get(intent) ?? 'superseded',
        ...(failure === undefined ? {} : { error: describe(failure) }),
      });
    }
  }
  return records;
}

function keyJson(attributes: AttributeMap, names: readonly string[]): KeyJson {
  const key: KeyJson = {};
  for (const name of names) {
    const value = attributes[name] as AttributeValue;
    key[name] = value.B
      ? { B: Buffer.from(value.B).toString('base64') }
      : value.N
        ? { N: value.N }
        : { S: value.S ?? '' };
  }
  return key;
}

/**
 * The Kafka key of a record: the same item, the same key bytes (attribute names sorted), so one
 * partition holds an item's history. A consumer looking an item up computes it the same way.
 */
export function appliedKey({ table, key }: Pick<AppliedRecord, 'table' | 'key'>): string | null {
  if (key === null) return null;
  const sorted: KeyJson = {};
  for (const name of Object.keys(key).sort()) sorted[name] = key[name] as KeyJson[string];
  return JSON.stringify({ table, key: sorted });
}

/**
 * Publishes a chunk's records after its writes and dead letters are durable and before its
 * offsets are committed, keyed by item: a consumer reads each item's changes after they are in
 * DynamoDB, in the order they were applied. A failure to publish blocks the partition, retried,
 * as a dead letter's does: a record is never dropped.
 */
export class AppliedLog {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    readonly topic: string,
  ) {}

  async publish(
    records: AppliedRecord[],
    control: Pick<WriteControl, 'shouldStop' | 'signal'> & {
      onRetry?: (error: unknown) => void;
    } = {},
  ): Promise<void> {
    if (records.length === 0) return;
    const messages = records.map((record) => ({ key: appliedKey(record), value: JSON.stringify(record) }));
    const retry = createRetry({
      shouldStop: control.shouldStop,
      signal: control.signal,
      onRetry: (error) => control.onRetry?.(error),
    });
    for (const batch of bounded(messages, MAX_SEND_BYTES))
      await retry(async () => {
        try {
          await this.producer.send({ topic: this.topic, acks: -1, messages: batch });
        } catch (cause) {
          throw publishError(this.topic, cause, 'applied changes');
        }
      });
  }
}
