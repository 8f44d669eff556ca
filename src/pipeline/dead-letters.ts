import { runsOf } from '../core/runs';
import type { IHeaders, Producer } from 'kafkajs';
import type { KafkaOrigin } from '../core/change-event';
import type { FerryEvents } from '../core/events';
import { FerryError, describe } from '../core/errors';
import { createRetry, type RetryOptions } from '../core/retry';

/** Header names on every dead letter. */
export const DLQ_HEADERS = {
  topic: 'ferry.origin.topic',
  partition: 'ferry.origin.partition',
  offset: 'ferry.origin.offset',
  timestamp: 'ferry.origin.timestamp',
  errorClass: 'ferry.error.class',
  errorMessage: 'ferry.error.message',
  mapping: 'ferry.mapping',
  failedAt: 'ferry.failed.at',
} as const;

export function deadLetterTopic(topicPrefix: string, mapping: string): string {
  return `${topicPrefix}.dlq.${mapping}`;
}

export interface DeadLetter {
  origin: KafkaOrigin & { timestamp?: string };
  key: Buffer | null;
  value: Buffer | null;
  error: unknown;
}

/** Bytes of letters sent at once: well under the broker's default max.message.bytes (1 MB). */
export const MAX_SEND_BYTES = 512 * 1024;

/** The dead-letter topic's limit per record batch: a letter is its message plus ferry's headers. */
export const DLQ_TOPIC_CONFIG = { numPartitions: 1, maxMessageBytes: 8 * 1024 * 1024 };

type Letter = { key: Buffer | null; value: Buffer | null; headers: IHeaders };

function letterBytes({ key, value, headers }: Letter): number {
  let size = (key?.length ?? 0) + (value?.length ?? 0) + 64;
  for (const [name, header] of Object.entries(headers)) size += name.length + String(header ?? '').length + 8;
  return size;
}

/** Publishes poison messages, unchanged, with their origin and error in headers. */
export class DeadLetterPublisher {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
    private readonly mapping: string,
    private readonly events?: FerryEvents,
    private readonly retry: Partial<RetryOptions> = {},
  ) {}

  /** Resolves once Kafka has acknowledged every letter (acks=all); failures are retried, never skipped. */
  async publish(
    letters: DeadLetter[],
    control: Pick<RetryOptions, 'shouldStop' | 'signal' | 'onRetry'> = {},
  ): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date().toISOString();
    const messages = letters.map((letter) => ({
      key: letter.key,
      value: letter.value,
      headers: this.headers(letter, now),
    }));
    const retry = createRetry({ ...this.retry, ...control });
    // kafkajs puts one send's messages for a partition in one record batch, which the broker
    // refuses whole over max.message.bytes (1 MB by default): send bounded batches in order.
    for (const batch of runsOf(messages, MAX_SEND_BYTES, letterBytes)) {
      await retry(async () => {
        try {
          await this.producer.send({ topic: this.topic, acks: -1, messages: batch });
        } catch (cause) {
          throw publishError(this.topic, cause);
        }
      });
    }
    for (const letter of letters) {
      this.events?.emit('dlq.sent', {
        mapping: this.mapping,
        topic: letter.origin.topic,
        partition: letter.origin.partition,
        offset: letter.origin.offset,
        error: errorClass(letter.error),
        message: describe(letter.error),
      });
    }
  }

  private headers(letter: DeadLetter, failedAt: string): IHeaders {
    const message = letter.error instanceof Error ? letter.error.message : String(letter.error);
    return {
      [DLQ_HEADERS.topic]: letter.origin.topic,
      [DLQ_HEADERS.partition]: String(letter.origin.partition),
      [DLQ_HEADERS.offset]: letter.origin.offset,
      ...(letter.origin.timestamp ? { [DLQ_HEADERS.timestamp]: letter.origin.timestamp } : {}),
      [DLQ_HEADERS.errorClass]: errorClass(letter.error),
      [DLQ_HEADERS.errorMessage]: message.slice(0, 4000),
      [DLQ_HEADERS.mapping]: this.mapping,
      [DLQ_HEADERS.failedAt]: failedAt,
    };
  }
}

/** Kafka's answers that need an operator, with what to do. */
const publishFixes: Record<string, string> = {
  MESSAGE_TOO_LARGE: "a record exceeds the topic's max.message.bytes: raise it on the topic",
  RECORD_LIST_TOO_LARGE: "a record exceeds the topic's max.message.bytes: raise it on the topic",
  TOPIC_AUTHORIZATION_FAILED: 'the worker may not write to the topic: grant it WRITE and DESCRIBE',
  CLUSTER_AUTHORIZATION_FAILED: 'the idempotent producer needs IDEMPOTENT_WRITE on the cluster',
  UNKNOWN_TOPIC_OR_PARTITION:
    'the topic does not exist: the worker creates it at start, unless auto-creation is refused',
};

/**
 * A letter (or an applied-log record) is never dropped, so every failure to publish one blocks the
 * partition (retried, so it clears by itself once the cause does); Kafka's non-retriable answers
 * name the fix.
 */
export function publishError(topic: string, cause: unknown, what = 'dead letters'): FerryError {
  let type: string | undefined;
  for (let e: unknown = cause; e && !type; e = (e as { cause?: unknown }).cause) type = (e as { type?: string }).type;
  const fix = type ? publishFixes[type] : undefined;
  return new FerryError(`cannot publish ${what} to ${topic}: ${describe(cause)}${fix ? ` (${fix})` : ''}`, {
    retriable: true,
    cause,
  });
}

const errorClass = (err: unknown) => (err instanceof Error ? err.name : typeof err);
