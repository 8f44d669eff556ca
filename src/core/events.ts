import { EventEmitter } from 'node:events';
import type { Operation } from './change-event';

export type Outcome = 'written' | 'stale' | 'filtered' | 'dead-lettered' | 'skipped';

/**
 * What a lone tombstone's row had in DynamoDB: its item from before the tombstone (a lost
 * delete), no item, an item written since (or by the delete itself, a soft delete); or the row
 * changes again later in the same chunk; or its item key cannot be made from the Kafka key's
 * columns alone; or the check could not be made (the item's version unreadable, the read refused).
 */
export type LoneTombstoneOutcome =
  'lost-delete' | 'no-item' | 'item-newer' | 'changed-again' | 'key-not-derivable' | 'not-checked';

/** The public instrumentation API: metrics, logs and tests all listen to these. */
export interface FerryEventMap {
  'batch.done': {
    mapping: string;
    topic: string;
    partition: number;
    messages: number;
    /** Events by source operation and what became of them. */
    outcomes: Array<{ op: Operation | 'none'; outcome: Outcome; count: number }>;
    durationMs: number;
    writeDurationMs: number;
    /** Source commit time of the newest change in the batch, epoch ms (0 when none). */
    newestCommitMs: number;
    lastOffset: string;
    highWatermark: string;
  };
  'sink.retry': { error: unknown; attempt: number; delayMs: number };
  /** Writes that reached the retry limit and go to the dead letters. */
  'sink.retries-exhausted': { table: string; items: number };
  /** A retriable failure holds a partition: emitted at every retry while it lasts. */
  'partition.blocked': {
    mapping: string;
    topic: string;
    partition: number;
    /** When this block began, epoch ms. */
    sinceMs: number;
    error: unknown;
    /** The item key the failure is about, when it is about a write. */
    key?: Record<string, unknown>;
  };
  /** The partition's work went through (or was handed back) after being blocked. */
  'partition.unblocked': { mapping: string; topic: string; partition: number; sinceMs: number };
  /** The topic's Kafka key has other columns than before (see pipeline/key-guard). */
  'source.key-changed': {
    mapping: string;
    topic: string;
    partition: number;
    offset: string;
    table: string;
    /** Key shapes seen before, e.g. "id". */
    from: string;
    to: string;
  };
  /**
   * The topic's partitions grew while older partitions still had unprocessed messages from before
   * the growth (see source/kafka/partition-growth): a row's changes may be on two partitions.
   */
  'source.partitions-grew': {
    topic: string;
    groupId: string;
    /** The lowest partition the group has never committed: the old partition count, as the group knows it. */
    firstNew: number;
    /** The topic's partition count now. */
    partitions: number;
    /** The new partition whose first message dated the growth. */
    partition: number;
    /** The growth happened at the latest at this time (its first message's timestamp), epoch ms. */
    grewBy: number;
    /** Old partitions with messages from before `grewBy` still unprocessed, and how many. */
    behind: Array<{ partition: number; messages: number }>;
  };
  /**
   * A tombstone read without the delete event that comes right before it (see
   * pipeline/lost-deletes): compaction dropped that event, or this process began reading between
   * the two. What checking the row's item found.
   */
  'source.lone-tombstone': {
    mapping: string;
    topic: string;
    partition: number;
    offset: string;
    outcome: LoneTombstoneOutcome;
    /** Why nothing could be checked, for key-not-derivable and not-checked. */
    reason?: string;
  };
  /** A row deleted at the source whose item is still there: its delete event was compacted away unread. */
  'sink.lost-delete': {
    mapping: string;
    /** The DynamoDB table holding the item(s), and the source table. */
    table: string;
    sourceTable: string;
    topic: string;
    partition: number;
    offset: string;
    /** The tombstone's Kafka timestamp, epoch ms. */
    tombstoneAtMs: number;
    /** Each item still there, with the version it was written from. */
    items: Array<{ key: Record<string, unknown>; version: string }>;
  };
  /**
   * The mapping's source table changed columns (see pipeline/schema-watch): what changed, what
   * it means for items already written, and what the worker does about it.
   */
  'source.schema-changed': {
    mapping: string;
    table: string;
    topic: string;
    partition: number;
    offset: string;
    /** Source commit time of the first change with the new schema, epoch ms. */
    committedAtMs: number;
    /** One line: "added b (int32, default 7); renamed a to c". */
    changes: string;
    judgement: { class: 'harmless' | 'existing rows may differ' | 'mapping breaks'; reasons: string[] };
    /** none: harmless; alert: an operator snapshots; snapshot: the worker asked Debezium for one. */
    action: 'none' | 'alert' | 'snapshot';
  };
  /**
   * A change of another table on the mapping's topic, skipped: Debezium gives tables one topic
   * when their names differ only in characters a topic name cannot hold ("order items", "order_items").
   */
  'source.other-table': {
    mapping: string;
    sourceTable: string;
    table: string;
    topic: string;
    partition: number;
    offset: string;
  };
  /** The worker asked Debezium for an incremental snapshot of the table (onSchemaChange: 'snapshot'). */
  'source.snapshot-requested': { mapping: string; table: string; signal: string };
  'sink.throttled': { table: string };
  'dlq.sent': {
    mapping: string;
    topic: string;
    partition: number;
    offset: string;
    /** The error's class, e.g. ItemError. */
    error: string;
    message: string;
  };
  /** The connector's heartbeat topic grew at seenAtMs (or the watch started then, before any): see source/debezium/capture-watch. */
  'capture.heartbeat': { topic: string; seenAtMs: number };
  'consumer.state': { state: 'connected' | 'joined' | 'stopped' | 'crashed'; detail?: string };
}

export type FerryEventName = keyof FerryEventMap;

export class FerryEvents {
  private readonly emitter = new EventEmitter();

  /** Subscribes; the returned function unsubscribes. */
  on<E extends FerryEventName>(event: E, listener: (payload: FerryEventMap[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  emit<E extends FerryEventName>(event: E, payload: FerryEventMap[E]): void {
    this.emitter.emit(event, payload);
  }
}
