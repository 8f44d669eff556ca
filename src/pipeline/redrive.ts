import { type Kafka, type KafkaMessage, Partitioners, type Producer } from 'kafkajs';
import type { Config } from '../config/config';
import { FerryError, describe } from '../core/errors';
import { FerryEvents, type Outcome } from '../core/events';
import { RetryAbortedError } from '../core/retry';
import type { Mapping } from '../mapping/define-mapping';
import type { Sink, WriteResult } from '../core/batch';
import { createDynamoDbClient } from '../sink/dynamodb/client';
import { ensureDeletesTable } from '../sink/dynamodb/deletes';
import { DynamoDbWriter, writerOptions } from '../sink/dynamodb/dynamodb-writer';
import { sdkWrites } from '../sink/dynamodb/lean-client';
import { createDecoder } from '../source/debezium/create-decoder';
import { readRange } from '../source/kafka/read-range';
import { type AppliedLog, existingAppliedLog } from './applied-log';
import { BatchProcessor } from './batch-processor';
import { DLQ_HEADERS, type DeadLetter, DeadLetterPublisher, deadLetterTopic } from './dead-letters';

export interface DeadLetterView {
  partition: number;
  offset: string;
  origin: { topic: string; partition: number; offset: string };
  errorClass: string;
  errorMessage: string;
  mapping: string;
  failedAt: string;
  /** The letter this one retried and failed again (`partition/offset`), if it came from a redrive. */
  retryOf?: string;
  value: string | null;
}

/** Names the letter a redriven change came from, on the new letter it becomes if it fails again. */
export const RETRY_OF_HEADER = 'ferry.retry.of';

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString() ?? '';

export function viewDeadLetter(partition: number, m: KafkaMessage): DeadLetterView {
  return {
    partition,
    offset: m.offset,
    origin: {
      topic: header(m, DLQ_HEADERS.topic),
      partition: Number(header(m, DLQ_HEADERS.partition)),
      offset: header(m, DLQ_HEADERS.offset),
    },
    errorClass: header(m, DLQ_HEADERS.errorClass),
    errorMessage: header(m, DLQ_HEADERS.errorMessage),
    mapping: header(m, DLQ_HEADERS.mapping),
    failedAt: header(m, DLQ_HEADERS.failedAt),
    ...(header(m, RETRY_OF_HEADER) ? { retryOf: header(m, RETRY_OF_HEADER) } : {}),
    value: m.value === null ? null : m.value.toString('utf8'),
  };
}

/** How long a redrive waits on a failure that would block a worker (a missing table, an outage). */
const REDRIVE_BLOCKED_LIMIT_MS = 60_000;

export const redriveGroup = (groupId: string) => `${groupId}.redrive`;

/** `expired`: letters older than the delete memory, not applied (see redriveDeadLetters). */
export type RedriveReport = Record<Outcome, number> & { messages: number; expired: number };

/** What one letter came to: counts by outcome (a letter may write several items), or expired. */
export type LetterOutcome = Partial<Record<Outcome | 'expired', number>>;

/** Calls `run` for each letter to redrive, in order; resolves when every one has been run. */
export type LetterFeed = (run: (partition: number, letter: KafkaMessage) => Promise<void>) => Promise<unknown>;

/** A redrive that ran no letter. */
export const emptyReport = (): RedriveReport => ({
  messages: 0,
  written: 0,
  stale: 0,
  filtered: 0,
  'dead-lettered': 0,
  skipped: 0,
  expired: 0,
});

export const letterId = (partition: number, offset: string) => `${partition}/${offset}`;

export interface RedriveOptions {
  dryRun: boolean;
  onProgress?: (done: number) => void;
  blockedLimitMs?: number;
  /** After each letter, with what it came to. */
  onLetter?: (letter: DeadLetterView, outcome: LetterOutcome) => void;
}

/**
 * Runs dead letters through the current mapping again, at their original origin, so the version
 * guard still applies (a letter older than what the item holds is counted stale). Letters that
 * fail again are appended to the dead-letter topic anew. The redrive group's offsets record how
 * far it got; a dry run reads under a throwaway group and writes nothing.
 */
export async function redriveDeadLetters(
  kafka: Kafka,
  config: Config,
  mapping: Mapping,
  groupId: string,
  options: RedriveOptions,
): Promise<RedriveReport> {
  const topic = deadLetterTopic(config.kafka.topicPrefix, mapping.name);
  return runDeadLetters(kafka, config, mapping, options, (run) =>
    readRange(kafka, {
      topic,
      groupId: options.dryRun ? undefined : redriveGroup(groupId),
      onBatch: async (partition, messages) => {
        for (const m of messages) await run(partition, m);
      },
    }),
  );
}

/**
 * Runs the letters a feed gives through the current mapping, the one path for `ferry dlq redrive`
 * and the console's retries: the conditional writer at each letter's original origin (the version
 * guard applies), failures published as new letters naming the one they retried.
 * A letter that failed longer ago than deletes are remembered (dynamodb.rememberDeletesDays) is
 * not applied: a delete of its item may be forgotten by now, and the letter would bring the item
 * back. It is counted as expired and stays in the topic; a rebuild applies its change safely.
 */
export async function runDeadLetters(
  kafka: Kafka,
  config: Config,
  mapping: Mapping,
  options: RedriveOptions,
  feed: LetterFeed,
): Promise<RedriveReport> {
  const topic = deadLetterTopic(config.kafka.topicPrefix, mapping.name);
  const events = new FerryEvents();
  const report = emptyReport();
  const rememberedSinceMs = Date.now() - config.dynamodb.rememberDeletesDays * 86_400_000;
  let current: LetterOutcome = {};
  events.on('batch.done', ({ outcomes }) =>
    outcomes.forEach(({ outcome, count }) => {
      report[outcome] += count;
      current[outcome] = (current[outcome] ?? 0) + count;
    }),
  );
  // A command must end: a failure that would block a worker's partition stops the redrive instead.
  let blocked: { sinceMs: number; error: unknown } | undefined;
  events.on('partition.blocked', ({ sinceMs, error }) => (blocked = { sinceMs, error }));
  events.on('partition.unblocked', () => (blocked = undefined));
  let gaveUpOn: typeof blocked;
  const shouldStop = () => {
    if (blocked && Date.now() - blocked.sinceMs > (options.blockedLimitMs ?? REDRIVE_BLOCKED_LIMIT_MS))
      gaveUpOn = blocked;
    return gaveUpOn !== undefined;
  };
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // Letters are run one at a time, so every letter sent meanwhile is a failure of the one running.
  let retryOf = '';
  const naming: Pick<Producer, 'send'> = {
    send: (record) =>
      producer.send({
        ...record,
        messages: record.messages.map((m) => ({ ...m, headers: { ...m.headers, [RETRY_OF_HEADER]: retryOf } })),
      }),
  };
  const sink: Sink = options.dryRun
    ? { write: async (intents): Promise<WriteResult> => ({ written: intents, stale: [], failed: [] }) }
    : new DynamoDbWriter(sdkWrites(createDynamoDbClient(config.dynamodb)), writerOptions(config.dynamodb), events);
  const deadLetters = options.dryRun
    ? { publish: async (_letters: DeadLetter[]) => undefined }
    : new DeadLetterPublisher(naming, topic, mapping.name, events);
  // A letter written now is a change applied to the table: the change feed, if the mapping's
  // worker keeps one, records it too.
  let appliedLog: AppliedLog | undefined;
  if (!options.dryRun) {
    await ensureDeletesTable(createDynamoDbClient(config.dynamodb), config.dynamodb.deletesTable, false);
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      appliedLog = await existingAppliedLog(admin, producer, config.kafka.topicPrefix, mapping);
    } finally {
      await admin.disconnect();
    }
  }
  try {
    const processor = new BatchProcessor({
      mapping,
      itemRules: config.pipeline,
      decoder: createDecoder(config),
      sink,
      deadLetters,
      appliedLog,
      events,
    });
    await feed(async (partition, m) => {
      const view = viewDeadLetter(partition, m);
      const { origin, failedAt } = view;
      report.messages++;
      options.onProgress?.(report.messages);
      current = {};
      if (!(Date.parse(failedAt) >= rememberedSinceMs)) {
        report.expired++;
        return options.onLetter?.(view, { expired: 1 });
      }
      retryOf = letterId(partition, m.offset);
      const letter = {
        key: m.key,
        value: m.value,
        offset: origin.offset,
        timestamp: header(m, DLQ_HEADERS.timestamp) || undefined,
      };
      await processor
        .process(
          { topic: origin.topic, partition: origin.partition, highWatermark: '-1', messages: [letter] },
          shouldStop,
        )
        .catch((err: unknown) => {
          if (!(err instanceof RetryAbortedError) || !gaveUpOn) throw err;
          throw new FerryError(
            `redrive stopped at dead letter ${partition}/${m.offset} (origin ${origin.topic}/${origin.partition}/${origin.offset}): blocked for ${Math.round((Date.now() - gaveUpOn.sinceMs) / 1000)} s on ${describe(gaveUpOn.error)}; fix that and run it again, it goes on from there`,
            { cause: gaveUpOn.error },
          );
        });
      options.onLetter?.(view, current);
    });
  } finally {
    if (!options.dryRun) await producer.disconnect();
  }
  return report;
}
