import { runsOf } from '../core/runs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Admin, Producer } from 'kafkajs';
import type { Config } from '../config/config';
import type { WriteControl, WriteResult } from '../core/batch';
import type { ChangeEvent, Operation } from '../core/change-event';
import { describe } from '../core/errors';
import { createRetry } from '../core/retry';
import type { AttributeMap, WriteIntent } from '../core/write-intent';
import type { Mapping } from '../mapping/define-mapping';
import { ensureLogTopic } from '../source/kafka/log-topic';
import { MAX_SEND_BYTES, publishError } from './dead-letters';

export const appliedTopic = (topicPrefix: string, mapping: string) => `${topicPrefix}.applied.${mapping}`;

/**
 * What became of a change for one item: `superseded` when a later change of the same item in the
 * same chunk was written in its place (one write carries both); `filtered` when the mapping made
 * no item of it; `dead-lettered` when it went to the dead letters.
 */
export type AppliedOutcome = 'written' | 'stale' | 'superseded' | 'filtered' | 'dead-lettered';

/** A key attribute as DynamoDB's JSON protocol spells it; binary is base64. */
export type KeyJson = Record<string, { S: string } | { N: string } | { B: string }>;

/** What became of one change for one item. */
export interface AppliedRecord {
  /** The item's key, attribute names sorted; null for a change that made no item (filtered, or dead-lettered before mapping). */
  key: KeyJson | null;
  /** What was asked of the item: put or delete; null when no item. */
  operation: 'put' | 'delete' | null;
  outcome: AppliedOutcome;
  /** The change's source position (`_ferry_version`); null when the message could not be decoded. */
  version: string | null;
  /** The source operation; null when the message could not be decoded. */
  change: Operation | null;
  /** The change's offset in the source topic partition the message names. */
  offset: string;
  /** Source commit time, epoch ms; null when the message could not be decoded. */
  committedAtMs: number | null;
  /** Why it was dead-lettered. */
  error?: string;
}

/**
 * One message of `<prefix>.applied.<mapping>`: records of one source chunk whose items hash to
 * this partition, in the order they were applied, once all of them were durable (written to
 * DynamoDB, or to the dead letters).
 */
export interface AppliedMessage {
  mapping: string;
  table: string;
  /** The source topic partition the records' offsets are in. */
  source: { topic: string; partition: number };
  appliedAtMs: number;
  records: AppliedRecord[];
}

/** A message of a chunk, as the batch processor saw it: decoded or not, mapped to intents or not. */
export interface ChunkChange {
  offset: string;
  event?: ChangeEvent;
  /** The mapping's intents for the event, in order (none: filtered). */
  intents?: WriteIntent[];
  /** Decoding or mapping failed: the message went to the dead letters. */
  error?: unknown;
}

/** Characters of an error kept in a record, as in a dead letter's header. */
const MAX_ERROR = 4000;

/**
 * A chunk's records as the messages to send: grouped by the partition of their item (records
 * without one go with their source partition), in the chunk's order, each message at most
 * MAX_SEND_BYTES; a send carries at most one message a partition, since the broker refuses a
 * partition's record batch over max.message.bytes. The JSON is written out here rather than by
 * JSON.stringify of an object a record: this runs for every change on the hot path.
 */
export function appliedMessages(
  mapping: Pick<Mapping, 'partitionKey' | 'sortKey'>,
  changes: readonly ChunkChange[],
  result: WriteResult,
  head: Omit<AppliedMessage, 'records'>,
  partitions: number,
): Array<Array<{ partition: number; value: string }>> {
  // Most intents are written: only the exceptions are looked up.
  const written = new Set(result.written);
  const stale = new Set(result.stale);
  const failed = new Map(result.failed.map(({ intent, error }) => [intent, error]));
  const keyNames = [mapping.partitionKey.name, ...(mapping.sortKey ? [mapping.sortKey.name] : [])].sort();
  const quotedNames = keyNames.map((name) => JSON.stringify(name));
  const byPartition = new Map<number, string[]>();
  const add = (partition: number, text: string) => {
    const texts = byPartition.get(partition);
    if (texts) texts.push(text);
    else byPartition.set(partition, [text]);
  };
  for (const { offset, event, intents, error } of changes) {
    // The fields every record of the change shares, after its key, operation and outcome; a
    // version is digits and punctuation (core/version), so it needs no escaping.
    const tail = event
      ? `,"version":"${event.position.version}","change":"${event.op}","offset":"${offset}","committedAtMs":${event.position.committedAtMs}`
      : `,"version":null,"change":null,"offset":"${offset}","committedAtMs":null`;
    if (error !== undefined || !intents || intents.length === 0) {
      const outcome = error === undefined ? 'filtered' : 'dead-lettered';
      add(
        head.source.partition % partitions,
        `{"key":null,"operation":null,"outcome":"${outcome}"${tail}${errorField(error)}}`,
      );
      continue;
    }
    for (const intent of intents) {
      const key = keyText(intent.kind === 'put' ? intent.attributes : intent.keyAttributes, keyNames, quotedNames);
      const outcome = written.has(intent)
        ? 'written'
        : stale.has(intent)
          ? 'stale'
          : failed.has(intent)
            ? 'dead-lettered'
            : 'superseded';
      add(
        appliedPartition(key, partitions),
        `{"key":${key},"operation":"${intent.kind}","outcome":"${outcome}"${tail}${errorField(failed.get(intent))}}`,
      );
    }
  }
  const prefix = `${JSON.stringify(head).slice(0, -1)},"records":[`;
  const sends: Array<Array<{ partition: number; value: string }>> = [];
  for (const [partition, texts] of byPartition)
    runsOf(texts, MAX_SEND_BYTES, (text) => text.length).forEach((run, i) =>
      (sends[i] ??= []).push({ partition, value: `${prefix}${run.join(',')}]}` }),
    );
  return sends;
}

const errorField = (error: unknown) =>
  error === undefined ? '' : `,"error":${JSON.stringify(describe(error).slice(0, MAX_ERROR))}`;

/** An item key's text in the log (KeyJson, names sorted), as a reader looks the item up. */
export function appliedKeyText(
  mapping: Pick<Mapping, 'partitionKey' | 'sortKey'>,
  keyAttributes: AttributeMap,
): string {
  const names = [mapping.partitionKey.name, ...(mapping.sortKey ? [mapping.sortKey.name] : [])].sort();
  return keyText(
    keyAttributes,
    names,
    names.map((name) => JSON.stringify(name)),
  );
}

/** The key as KeyJson text, attribute names sorted: the same item, the same text. */
function keyText(attributes: AttributeMap, sortedNames: readonly string[], quotedNames: readonly string[]): string {
  let text = '{';
  for (let i = 0; i < sortedNames.length; i++) {
    const value = attributes[sortedNames[i] as string] as AttributeValue;
    const typed = value.B
      ? `{"B":"${Buffer.from(value.B).toString('base64')}"}`
      : value.N !== undefined
        ? `{"N":"${value.N}"}`
        : `{"S":${JSON.stringify(value.S ?? '')}}`;
    text += `${i === 0 ? '' : ','}${quotedNames[i] as string}:${typed}`;
  }
  return `${text}}`;
}

/**
 * The partition that holds an item's records: FNV-1a (32 bit) over the UTF-16 code units of the
 * key's JSON text (KeyJson, names sorted, as in the records) modulo the partitions.
 */
export function appliedPartition(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

/**
 * Publishes a chunk's records after its writes and dead letters are durable and before its
 * offsets are committed: a consumer reads each item's changes after they are in DynamoDB, those
 * of one source row in the order they were applied. A chunk's records are grouped by the
 * partition of their item, one message a partition: a message per record would cost the hot
 * path more than the change itself. A failure to publish blocks the partition, retried, as a
 * dead letter's does: a record is never dropped.
 */
export class AppliedLog {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    readonly topic: string,
    private readonly partitions: number,
    private readonly mapping: Pick<Mapping, 'name' | 'targetTable' | 'partitionKey' | 'sortKey'>,
  ) {}

  private get head() {
    return { mapping: this.mapping.name, table: this.mapping.targetTable };
  }

  async publish(
    changes: readonly ChunkChange[],
    result: WriteResult,
    source: AppliedMessage['source'],
    control: Pick<WriteControl, 'shouldStop' | 'signal'> & { onRetry?: (error: unknown) => void } = {},
  ): Promise<void> {
    if (changes.length === 0) return;
    const head = { ...this.head, source, appliedAtMs: Date.now() };
    const sends = appliedMessages(this.mapping, changes, result, head, this.partitions);
    const retry = createRetry({
      shouldStop: control.shouldStop,
      signal: control.signal,
      onRetry: (error) => control.onRetry?.(error),
    });
    for (const messages of sends)
      await retry(async () => {
        try {
          await this.producer.send({ topic: this.topic, acks: -1, messages });
        } catch (cause) {
          throw publishError(this.topic, cause, 'applied changes');
        }
      });
  }
}

/**
 * The mapping's applied-changes log when FERRY_APPLIED_LOG_ENABLED, its topic created if missing
 * with as many partitions as the source topic (the feed keeps up with the worker's consumers).
 * `retentionDiffers` names an existing topic's other retention, which is left as it is.
 */
export async function openAppliedLog(
  admin: Pick<Admin, 'createTopics' | 'describeConfigs' | 'fetchTopicOffsets' | 'listTopics'>,
  producer: Pick<Producer, 'send'>,
  config: Pick<Config, 'appliedLog'> & { kafka: Pick<Config['kafka'], 'topicPrefix'> },
  mapping: Pick<Mapping, 'name' | 'targetTable' | 'partitionKey' | 'sortKey'>,
  sourceTopic: string,
): Promise<{ log?: AppliedLog; retentionDiffers?: { topic: string; retention: string } }> {
  if (!config.appliedLog.enabled) return {};
  const topic = appliedTopic(config.kafka.topicPrefix, mapping.name);
  // Asking for a missing topic's partitions could create it: the source topic may not exist yet.
  const sourcePartitions = (await admin.listTopics()).includes(sourceTopic)
    ? (await admin.fetchTopicOffsets(sourceTopic)).length
    : 1;
  const { partitions, differs, retention } = await ensureLogTopic(admin, {
    topic,
    numPartitions: sourcePartitions,
    retentionHours: config.appliedLog.retentionHours,
  });
  return {
    log: new AppliedLog(producer, topic, partitions, mapping),
    ...(differs ? { retentionDiffers: { topic, retention } } : {}),
  };
}

/**
 * The mapping's applied-changes log if its topic exists (its worker has the log on), whatever this
 * process's setting: a redrive writes the live table, so the feed must hear of it.
 */
export async function existingAppliedLog(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'listTopics'>,
  producer: Pick<Producer, 'send'>,
  topicPrefix: string,
  mapping: Pick<Mapping, 'name' | 'targetTable' | 'partitionKey' | 'sortKey'>,
): Promise<AppliedLog | undefined> {
  const topic = appliedTopic(topicPrefix, mapping.name);
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  return new AppliedLog(producer, topic, (await admin.fetchTopicOffsets(topic)).length, mapping);
}
