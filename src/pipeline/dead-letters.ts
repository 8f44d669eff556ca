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
    shouldStop?: () => boolean | Promise<boolean>,
    onRetry?: (error: unknown) => void,
  ): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date().toISOString();
    const messages = letters.map((letter) => ({
      key: letter.key,
      value: letter.value,
      headers: this.headers(letter, now),
    }));
    await createRetry({ ...this.retry, shouldStop, onRetry })(async () => {
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages });
      } catch (cause) {
        throw new FerryError(`cannot publish dead letters to ${this.topic}: ${describe(cause)}`, {
          retriable: true,
          cause,
        });
      }
    });
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

const errorClass = (err: unknown) => (err instanceof Error ? err.name : typeof err);
