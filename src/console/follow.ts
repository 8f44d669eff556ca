import type { Kafka, KafkaMessage } from 'kafkajs';
import { readRange } from '../source/kafka/read-range';
import { auditTopic } from '../source/kafka/audit';
import { type LetterStateName, topicBounds, toLetterRow } from './letters';

/**
 * Reads a topic incrementally: each catchUp() hands over only what arrived since the last one, so
 * a summary (counts, states) stays current without reading the topic again or holding its records.
 */
export class TopicFollower {
  private readonly next = new Map<number, bigint>();
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly onMessage: (partition: number, message: KafkaMessage) => void,
  ) {}

  /** Reads up to the end offsets of now; concurrent callers share one read. */
  catchUp(): Promise<void> {
    this.running = this.running.catch(() => undefined).then(() => this.read());
    return this.running;
  }

  private async read(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    let bounds;
    try {
      bounds = await topicBounds(admin, this.topic);
    } finally {
      await admin.disconnect();
    }
    // Retention may have deleted records since: start at the log start then.
    const from = new Map(
      bounds.map(({ partition, low }) => {
        const next = this.next.get(partition) ?? 0n;
        return [partition, (next > BigInt(low) ? next : BigInt(low)).toString()];
      }),
    );
    if (bounds.every((b) => BigInt(from.get(b.partition) ?? b.high) >= BigInt(b.high))) return;
    await readRange(this.kafka, {
      topic: this.topic,
      from,
      onBatch: async (partition, messages) => {
        for (const m of messages) {
          this.onMessage(partition, m);
          this.next.set(partition, BigInt(m.offset) + 1n);
        }
      },
    });
  }
}

/** Dead letters of one mapping by error class, kept as counts only. */
export class LetterCounts {
  readonly follower: TopicFollower;
  total = 0;
  failedAgain = 0;
  readonly byClass = new Map<string, { count: number; last: string }>();

  constructor(kafka: Kafka, topic: string) {
    this.follower = new TopicFollower(kafka, topic, (partition, m) => {
      const letter = toLetterRow(partition, m);
      this.total++;
      if (letter.retryOf) this.failedAgain++;
      const entry = this.byClass.get(letter.errorClass) ?? { count: 0, last: letter.failedAt };
      entry.count++;
      entry.last = letter.failedAt > entry.last ? letter.failedAt : entry.last;
      this.byClass.set(letter.errorClass, entry);
    });
  }
}

export interface LetterState {
  state: Exclude<LetterStateName, 'open'>;
  who: string;
  when: string;
  /** What the retry came to, e.g. "written 2" or "dead-lettered 1". */
  outcome?: string;
}

export const CONSOLE_ACTIONS = { retry: 'console.dlq.retry', resolve: 'console.dlq.resolve' } as const;

/** The audit entry the console writes for an action on letters (one per chunk of letters). */
export interface ConsoleAuditDetail {
  mapping: string;
  letters: Array<{ letter: string; outcome?: string }>;
}

/** Letter states from the audit entries the console wrote: the latest entry for a letter wins. */
export class LetterStates {
  readonly follower: TopicFollower;
  private readonly states = new Map<string, LetterState>();

  constructor(kafka: Kafka, topicPrefix: string) {
    this.follower = new TopicFollower(kafka, auditTopic(topicPrefix), (_p, m) => this.apply(m.value));
  }

  private apply(value: Buffer | null): void {
    let entry: { action?: string; who?: string; when?: string; detail?: ConsoleAuditDetail };
    try {
      entry = JSON.parse(value?.toString('utf8') ?? 'null') ?? {};
    } catch {
      return; // not an entry of ours
    }
    const state =
      entry.action === CONSOLE_ACTIONS.retry ? 'retried' : entry.action === CONSOLE_ACTIONS.resolve ? 'resolved' : null;
    if (!state || !entry.detail?.mapping || !Array.isArray(entry.detail.letters)) return;
    for (const { letter, outcome } of entry.detail.letters)
      this.states.set(`${entry.detail.mapping}\u0000${letter}`, {
        state,
        who: entry.who ?? '',
        when: entry.when ?? '',
        ...(outcome ? { outcome } : {}),
      });
  }

  of(mapping: string, letter: string): LetterState | undefined {
    return this.states.get(`${mapping}\u0000${letter}`);
  }

  nameOf(mapping: string, letter: string): LetterStateName {
    return this.of(mapping, letter)?.state ?? 'open';
  }
}
