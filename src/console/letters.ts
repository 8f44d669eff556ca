import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { instant } from '../cli/arguments';
import { ConfigError } from '../core/errors';
import { type DeadLetterView, letterId, viewDeadLetter } from '../pipeline/redrive';
import { readRange } from '../source/kafka/read-range';

/** A dead letter as the console lists it: the redrive's view plus its Kafka key and headers. */
export interface LetterRow extends DeadLetterView {
  id: string;
  key: string | null;
  headers: Record<string, string>;
}

export type LetterStateName = 'open' | 'retried' | 'resolved';

export interface LetterFilter {
  errorClass?: string;
  /** failedAt bounds, epoch ms (inclusive). */
  fromMs?: number;
  toMs?: number;
  /** Case-insensitive text searched in the key and the error. */
  q?: string;
  state?: LetterStateName;
}

/** Where a page starts: a partition of the dead-letter topic and the next offset to read there. */
export interface Cursor {
  partition: number;
  offset: string;
}

export function toLetterRow(partition: number, m: KafkaMessage): LetterRow {
  const headers = Object.fromEntries(
    Object.entries(m.headers ?? {}).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : String(value),
    ]),
  );
  return {
    ...viewDeadLetter(partition, m),
    id: letterId(partition, m.offset),
    key: m.key === null ? null : m.key.toString('utf8'),
    headers,
  };
}

/** Parses `partition/offset` (a letter id, or a page cursor); the error names the field. */
export function parseLetterId(text: string, field = 'letter'): Cursor {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new ConfigError(`${field} "${text}" is not <partition>/<offset>, e.g. 0/42`);
  return { partition: Number(match[1]), offset: match[2] as string };
}

/** A time filter from a form: read as the CLI reads one, the browser's datetime-local (no zone) as UTC. */
function parseTime(text: string | undefined, field: string): number | undefined {
  return text ? instant(field, text, 'utc').getTime() : undefined;
}

/** The filter a query string or form describes; empty fields filter nothing. */
export function parseFilter(query: Record<string, string | undefined>): LetterFilter {
  const state = query.state || undefined;
  if (state !== undefined && state !== 'all' && state !== 'open' && state !== 'retried' && state !== 'resolved')
    throw new ConfigError(`state "${state}" is not all, open, retried or resolved`);
  const filter: LetterFilter = {};
  if (query.class) filter.errorClass = query.class;
  const fromMs = parseTime(query.from, 'from');
  const toMs = parseTime(query.to, 'to');
  if (fromMs !== undefined) filter.fromMs = fromMs;
  if (toMs !== undefined) filter.toMs = toMs;
  if (query.q) filter.q = query.q;
  if (state && state !== 'all') filter.state = state;
  return filter;
}

export function matches(letter: LetterRow, state: LetterStateName, filter: LetterFilter): boolean {
  if (filter.errorClass !== undefined && letter.errorClass !== filter.errorClass) return false;
  if (filter.state !== undefined && state !== filter.state) return false;
  const failedAt = Date.parse(letter.failedAt);
  if (filter.fromMs !== undefined && !(failedAt >= filter.fromMs)) return false;
  if (filter.toMs !== undefined && !(failedAt <= filter.toMs)) return false;
  if (filter.q !== undefined) {
    const q = filter.q.toLowerCase();
    const inKey = letter.key?.toLowerCase().includes(q) ?? false;
    if (!inKey && !letter.errorMessage.toLowerCase().includes(q)) return false;
  }
  return true;
}

/** Log start and end per partition, ascending; none when the topic does not exist (no letter yet). */
export async function topicBounds(
  admin: Pick<Admin, 'listTopics' | 'fetchTopicOffsets'>,
  topic: string,
): Promise<Array<{ partition: number; low: string; high: string }>> {
  // Asked first: a metadata request for a missing topic may create it.
  if (!(await admin.listTopics()).includes(topic)) return [];
  return (await admin.fetchTopicOffsets(topic))
    .map(({ partition, low, high }) => ({ partition, low, high }))
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Reads letters forward from a cursor, partition by partition, handing each to `take` until it
 * answers false; returns where the next read starts (null at the end of the topic). Only the
 * letter in hand is kept: the caller decides what to hold.
 */
export async function scanLetters(
  kafka: Kafka,
  topic: string,
  from: Cursor | undefined,
  take: (letter: LetterRow, message: KafkaMessage) => boolean | Promise<boolean>,
): Promise<Cursor | null> {
  const admin = kafka.admin();
  await admin.connect();
  let bounds;
  try {
    bounds = await topicBounds(admin, topic);
  } finally {
    await admin.disconnect();
  }
  for (const { partition, low, high } of bounds) {
    if (from && partition < from.partition) continue;
    const start = from && partition === from.partition && BigInt(from.offset) > BigInt(low) ? from.offset : low;
    if (BigInt(start) >= BigInt(high)) continue;
    let next: Cursor | undefined;
    // Every other partition starts at its end: one partition is read at a time, in order.
    const starts = new Map(bounds.map((b) => [b.partition, b.partition === partition ? start : b.high]));
    await readRange(kafka, {
      topic,
      from: starts,
      onBatch: async (p, messages) => {
        for (const m of messages) {
          if (next) return;
          if (!(await take(toLetterRow(p, m), m))) next = { partition: p, offset: (BigInt(m.offset) + 1n).toString() };
        }
      },
      enough: () => next !== undefined,
    });
    if (next) return BigInt(next.offset) < BigInt(high) || bounds.some((b) => b.partition > partition) ? next : null;
  }
  return null;
}

/** One page of letters matching a filter, from a cursor; `next` is null when the topic has no more. */
export async function readPage(
  kafka: Kafka,
  topic: string,
  options: { filter: LetterFilter; stateOf: (id: string) => LetterStateName; from?: Cursor; limit: number },
): Promise<{ letters: LetterRow[]; next: Cursor | null }> {
  const letters: LetterRow[] = [];
  const next = await scanLetters(kafka, topic, options.from, (letter) => {
    if (matches(letter, options.stateOf(letter.id), options.filter)) letters.push(letter);
    return letters.length < options.limit;
  });
  return { letters, next };
}

/** The letter at a partition and offset, or undefined when the topic no longer holds it. */
export async function readLetter(
  kafka: Kafka,
  topic: string,
  at: Cursor,
  raw?: (message: KafkaMessage) => void,
): Promise<LetterRow | undefined> {
  let found: LetterRow | undefined;
  await scanLetters(kafka, topic, at, (letter, message) => {
    if (letter.partition === at.partition && letter.offset === at.offset) {
      found = letter;
      raw?.(message);
    }
    return false;
  });
  return found;
}
