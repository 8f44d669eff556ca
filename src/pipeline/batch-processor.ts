import type { BatchHandler, Sink, SourceBatch, SourceMessage, WriteControl } from '../core/batch';
import type { ChangeEvent, KafkaOrigin, Operation } from '../core/change-event';
import type { FerryEvents, Outcome } from '../core/events';
import { RetryAbortedError, createRetry } from '../core/retry';
import type { WriteIntent } from '../core/write-intent';
import { applyMapping } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import type { ItemRules } from '../mapping/prepare-item';
import type { Decoded, EnvelopeDecoder } from '../source/debezium/envelope';
import type { AppliedLog, ChunkChange } from './applied-log';
import { coalesce } from './coalesce';
import type { DeadLetter, DeadLetterPublisher } from './dead-letters';
import { KeyGuard } from './key-guard';
import type { LostDeleteCheck } from './lost-deletes';
import type { SchemaWatch } from './schema-watch';
import { SourceOrderGuard, type SourceReads } from './source-order';

export interface BatchProcessorDeps {
  mapping: Mapping;
  /** How items are prepared for DynamoDB (see mapping/prepare-item). */
  itemRules: ItemRules;
  decoder: EnvelopeDecoder;
  sink: Sink;
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  /** Checks tombstones read without their delete event (see lost-deletes.ts). */
  lostDeletes?: Pick<LostDeleteCheck, 'check'>;
  /** Notices the source table's schema changing (see schema-watch.ts). */
  schemas?: Pick<SchemaWatch, 'observe' | 'settle'>;
  /** Records what became of each change, once durable (see applied-log.ts). */
  appliedLog?: Pick<AppliedLog, 'publish'>;
  /** Where each partition's read is kept for the next process (see source-order.ts). */
  sourceReads?: SourceReads;
  events?: FerryEvents;
}

/**
 * decode -> map -> coalesce -> write -> dead letters, for messages of one partition. It
 * resolves only once every change is durable in DynamoDB or in the dead-letter topic, so the
 * caller may then commit past the last message.
 */
export class BatchProcessor implements BatchHandler {
  private readonly keys: KeyGuard;
  private readonly order: SourceOrderGuard;

  constructor(private readonly deps: BatchProcessorDeps) {
    this.keys = new KeyGuard(deps.mapping.name, deps.events);
    this.order = new SourceOrderGuard(deps.sourceReads);
  }

  async process(
    batch: SourceBatch,
    shouldStop?: () => boolean | Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    const { topic, partition } = batch;
    const started = performance.now();
    const { mapping, events } = this.deps;
    // Every retriable failure (registry, DynamoDB, the dead-letter topic) blocks the partition, loudly.
    let blockedSinceMs: number | undefined;
    const blocked = (error: unknown, key?: Record<string, unknown>) => {
      blockedSinceMs ??= Date.now();
      events?.emit('partition.blocked', {
        mapping: mapping.name,
        topic,
        partition,
        sinceMs: blockedSinceMs,
        error,
        key,
      });
    };
    try {
      await this.run(
        batch,
        { shouldStop, signal, onRetry: (error, intent) => blocked(error, intent.key) },
        blocked,
        started,
      );
    } finally {
      if (blockedSinceMs !== undefined)
        events?.emit('partition.unblocked', { mapping: mapping.name, topic, partition, sinceMs: blockedSinceMs });
    }
  }

  private async run(
    batch: SourceBatch,
    control: WriteControl,
    blocked: (error: unknown) => void,
    started: number,
  ): Promise<void> {
    const { topic, partition, messages } = batch;
    const { shouldStop, signal } = control;
    const { mapping, itemRules, sink, deadLetters, lostDeletes, schemas, appliedLog, events } = this.deps;
    const letters: DeadLetter[] = [];
    // Kept only for the applied-changes log: each message in order, with what the mapping made of it.
    const changes: ChunkChange[] | undefined = appliedLog ? [] : undefined;
    const outcomes = new Map<ChangeEvent | SourceMessage, { op: Operation | 'none'; outcome: Outcome }>();
    const messageOf = new Map<ChangeEvent, SourceMessage>();
    const intents: WriteIntent[] = [];
    const tombstones: number[] = [];
    let newestCommitMs = 0;

    // Decoding, and keeping the partition's read, are retried as everything else: holding the partition.
    const retry = createRetry({ shouldStop, signal, onRetry: (error) => blocked(error) });
    await retry(() => this.order.seed(topic, partition));
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as SourceMessage;
      const origin = { topic, partition, offset: message.offset };
      let event: ChangeEvent;
      try {
        // Without a wait when the decoder needs none; otherwise retried, this first attempt as the retry's first.
        let first: Decoded | Promise<Decoded>;
        try {
          first = this.decodeOnce(message, origin);
        } catch (error) {
          first = Promise.reject(error);
        }
        const decoded =
          first instanceof Promise
            ? await retry(async (attempt) => (attempt === 1 ? first : this.decodeOnce(message, origin)))
            : first;
        if (decoded.kind === 'skip') {
          if (decoded.reason === 'tombstone') tombstones.push(index);
          outcomes.set(message, { op: 'none', outcome: 'skipped' });
          continue;
        }
        event = decoded.event;
        schemas?.observe(decoded.schema, event);
      } catch (error) {
        if (error instanceof RetryAbortedError) throw error;
        letters.push({
          origin: { ...origin, timestamp: message.timestamp },
          key: message.key,
          value: message.value,
          error,
        });
        outcomes.set(message, { op: 'none', outcome: 'dead-lettered' });
        changes?.push({ offset: message.offset, error });
        continue;
      }
      messageOf.set(event, message);
      newestCommitMs = Math.max(newestCommitMs, event.position.committedAtMs);
      try {
        const produced = applyMapping(mapping, event, itemRules);
        intents.push(...produced);
        outcomes.set(event, { op: event.op, outcome: produced.length === 0 ? 'filtered' : 'written' });
        changes?.push({ offset: message.offset, event, intents: produced });
      } catch (error) {
        letters.push({
          origin: { ...origin, timestamp: message.timestamp },
          key: message.key,
          value: message.value,
          error,
        });
        outcomes.set(event, { op: event.op, outcome: 'dead-lettered' });
        changes?.push({ offset: message.offset, event, error });
      }
    }

    const writeStarted = performance.now();
    const result = await sink.write(coalesce(intents), control);
    const writeDurationMs = performance.now() - writeStarted;
    for (const intent of result.stale) {
      const entry = outcomes.get(intent.event);
      if (entry?.outcome === 'written') entry.outcome = 'stale';
    }
    for (const { intent, error } of result.failed) {
      const entry = outcomes.get(intent.event);
      if (entry === undefined || entry.outcome === 'dead-lettered') continue;
      entry.outcome = 'dead-lettered';
      const message = messageOf.get(intent.event) as SourceMessage;
      letters.push({
        origin: { ...intent.event.origin, timestamp: message.timestamp },
        key: message.key,
        value: message.value,
        error,
      });
    }
    // Before the letters: a change that breaks the mapping is recorded before what it breaks.
    await schemas?.settle({ shouldStop, signal, onRetry: (error) => blocked(error) });
    await deadLetters.publish(letters, { shouldStop, signal, onRetry: (error) => blocked(error) });
    await lostDeletes?.check(topic, partition, messages, tombstones, {
      shouldStop,
      signal,
      onRetry: (error) => blocked(error),
    });
    if (changes)
      await appliedLog?.publish(
        changes,
        result,
        { topic, partition },
        {
          shouldStop,
          signal,
          onRetry: (error) => blocked(error),
        },
      );

    await retry(() => this.order.save(topic, partition));

    events?.emit('batch.done', {
      mapping: mapping.name,
      topic,
      partition,
      messages: messages.length,
      outcomes: countOutcomes(outcomes.values()),
      durationMs: performance.now() - started,
      writeDurationMs,
      newestCommitMs,
      lastOffset: messages.at(-1)?.offset ?? '-1',
      highWatermark: batch.highWatermark,
    });
  }

  /** Decodes a message and checks its key and its place in the source's order: synchronous when the decoder is. */
  private decodeOnce(message: SourceMessage, origin: KafkaOrigin): Decoded | Promise<Decoded> {
    const decoded = this.deps.decoder.decode(message.value, origin);
    return decoded instanceof Promise
      ? decoded.then((d) => this.withKeyChecked(d, message, origin))
      : this.withKeyChecked(decoded, message, origin);
  }

  private withKeyChecked(decoded: Decoded, message: SourceMessage, origin: KafkaOrigin): Decoded | Promise<Decoded> {
    if (decoded.kind !== 'change') return decoded;
    const shape = this.deps.decoder.keyShape(message.key, origin);
    return shape instanceof Promise
      ? shape.then((s) => this.checked(decoded, s, origin))
      : this.checked(decoded, shape, origin);
  }

  private checked(decoded: Decoded & { kind: 'change' }, shape: string | null, origin: KafkaOrigin): Decoded {
    const { mapping, events } = this.deps;
    // Another table's row sharing the topic (see topicFor) is not this mapping's: its key, order and schema are its own.
    if (decoded.event.table !== mapping.sourceTable) {
      events?.emit('source.other-table', {
        mapping: mapping.name,
        sourceTable: mapping.sourceTable,
        table: decoded.event.table,
        ...origin,
      });
      return { kind: 'skip', reason: 'other-table' };
    }
    this.keys.check(decoded.event, shape, origin);
    this.order.check(decoded.event, origin);
    return decoded;
  }
}

function countOutcomes(entries: Iterable<{ op: Operation | 'none'; outcome: Outcome }>) {
  const counts = new Map<string, { op: Operation | 'none'; outcome: Outcome; count: number }>();
  for (const { op, outcome } of entries) {
    const id = `${op}/${outcome}`;
    const entry = counts.get(id) ?? { op, outcome, count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  return [...counts.values()];
}
