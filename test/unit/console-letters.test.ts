import type { KafkaMessage } from 'kafkajs';
import { type LetterRow, matches, parseFilter, parseLetterId, readPage, toLetterRow } from '../../src/console/letters';
import { parseMetrics, ratePerSecond, workerUrlOf } from '../../src/console/workers';
import { DLQ_HEADERS } from '../../src/pipeline/dead-letters';
import { RETRY_OF_HEADER } from '../../src/pipeline/redrive';
import type { ReadRangeOptions } from '../../src/source/kafka/read-range';

/** An in-memory dead-letter topic: partition -> messages at offsets 0.. */
const topic = new Map<number, KafkaMessage[]>();
const reads: Array<Map<number, string>> = [];

// readRange over the in-memory topic, honouring `from` and `enough` as the real one does.
jest.mock('../../src/source/kafka/read-range', () => ({
  readRange: async (_kafka: unknown, options: ReadRangeOptions) => {
    reads.push(new Map(options.from));
    for (const [partition, messages] of topic) {
      const from = Number(options.from?.get(partition) ?? 0);
      for (let i = from; i < messages.length; i += 2) {
        await options.onBatch(partition, messages.slice(i, i + 2));
        if (options.enough?.()) return { messages: 0 };
      }
    }
    return { messages: 0 };
  },
}));

const kafka = {
  admin: () => ({
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => ['dlq'],
    fetchTopicOffsets: async () =>
      [...topic].map(([partition, messages]) => ({ partition, low: '0', high: String(messages.length), offset: '' })),
  }),
} as never;

const letter = (offset: number, errorClass: string, key: string, failedAt: string, retryOf?: string): KafkaMessage =>
  ({
    offset: String(offset),
    key: Buffer.from(key),
    value: Buffer.from('{}'),
    timestamp: '0',
    attributes: 0,
    headers: {
      [DLQ_HEADERS.topic]: 't',
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: String(offset),
      [DLQ_HEADERS.errorClass]: errorClass,
      [DLQ_HEADERS.errorMessage]: `${errorClass} at ${offset}`,
      [DLQ_HEADERS.mapping]: 'm',
      [DLQ_HEADERS.failedAt]: failedAt,
      ...(retryOf ? { [RETRY_OF_HEADER]: retryOf } : {}),
    },
  }) as KafkaMessage;

describe('console > letters', () => {
  beforeEach(() => {
    topic.clear();
    reads.length = 0;
  });

  it('reads a filter from a form, and names a bad field', () => {
    expect(parseFilter({ class: 'DecodeError', q: 'abc', state: 'open', from: '2024-05-01T12:00' })).toEqual({
      errorClass: 'DecodeError',
      q: 'abc',
      state: 'open',
      fromMs: Date.parse('2024-05-01T12:00:00Z'),
    });
    expect(parseFilter({ state: 'all', class: '' })).toEqual({});
    expect(() => parseFilter({ from: 'yesterday' })).toThrow(/from "yesterday" is not an ISO-8601 date or time/);
    // Read as the CLI reads times: a day the calendar has not is refused, not rolled into March.
    expect(() => parseFilter({ to: '2024-02-30T12:00' })).toThrow(/to "2024-02-30T12:00Z" is not an ISO-8601/);
    expect(parseFilter({ to: '2024-05-01', from: '2024-05-01T14:00:30.5+02:00' })).toEqual({
      toMs: Date.parse('2024-05-01T00:00:00Z'),
      fromMs: Date.parse('2024-05-01T12:00:30.5Z'),
    });
    expect(() => parseFilter({ state: 'gone' })).toThrow(/state "gone"/);
    expect(parseLetterId('2/41')).toEqual({ partition: 2, offset: '41' });
    expect(() => parseLetterId('2-41', 'after')).toThrow(/after "2-41"/);
  });

  it('matches by class, state, time and text in the key or the error', () => {
    const row: LetterRow = toLetterRow(0, letter(5, 'MappingError', '{"id":1001}', '2024-05-01T12:00:00.000Z', '0/3'));
    expect(row).toMatchObject({ id: '0/5', key: '{"id":1001}', retryOf: '0/3' });
    expect(matches(row, 'open', {})).toBe(true);
    expect(matches(row, 'open', { errorClass: 'DecodeError' })).toBe(false);
    expect(matches(row, 'resolved', { state: 'open' })).toBe(false);
    expect(matches(row, 'open', { q: 'ID":1001' })).toBe(true);
    expect(matches(row, 'open', { q: 'mappingerror at 5' })).toBe(true);
    expect(matches(row, 'open', { q: 'nothing' })).toBe(false);
    expect(matches(row, 'open', { fromMs: Date.parse('2024-05-01T12:00:00Z') })).toBe(true);
    expect(matches(row, 'open', { toMs: Date.parse('2024-05-01T11:59:59Z') })).toBe(false);
  });

  it('pages through matching letters with a partition/offset cursor, reading only up to a full page', async () => {
    topic.set(
      0,
      Array.from({ length: 7 }, (_, i) =>
        letter(i, i % 2 ? 'DecodeError' : 'MappingError', `k${i}`, '2024-05-01T00:00:00Z'),
      ),
    );
    topic.set(1, [letter(0, 'MappingError', 'p1', '2024-05-01T00:00:00Z')]);
    const options = { filter: { errorClass: 'MappingError' }, stateOf: () => 'open' as const, limit: 2 };
    const first = await readPage(kafka, 'dlq', options);
    expect(first.letters.map((l) => l.id)).toEqual(['0/0', '0/2']);
    expect(first.next).toEqual({ partition: 0, offset: '3' });
    // Stopped at the page: partition 1 was not read, partition 0 not past the batch holding 0/2.
    expect(reads).toHaveLength(1);
    const second = await readPage(kafka, 'dlq', { ...options, from: first.next ?? undefined });
    expect(second.letters.map((l) => l.id)).toEqual(['0/4', '0/6']);
    const third = await readPage(kafka, 'dlq', { ...options, from: second.next ?? undefined });
    expect(third.letters.map((l) => l.id)).toEqual(['1/0']);
    expect(third.next).toBeNull();
  });

  it('an empty topic, or none, is an empty page', async () => {
    const page = await readPage(kafka, 'dlq', { filter: {}, stateOf: () => 'open', limit: 5 });
    expect(page).toEqual({ letters: [], next: null });
  });
});

describe('console > workers', () => {
  it('reads events, freshness and the heartbeat age from /metrics', () => {
    const text = [
      'ferry_capture_heartbeat_age_seconds{topic="__debezium-heartbeat.shop"} 12.5',
      '# HELP ferry_events_total x',
      'ferry_events_total{mapping="m",table="t",op="create",outcome="written"} 10',
      'ferry_events_total{mapping="m",table="t",op="update",outcome="stale"} 5',
      'ferry_freshness_seconds_sum{mapping="m"} 3.5',
      'ferry_freshness_seconds_count{mapping="m"} 7',
      'ferry_freshness_seconds_bucket{mapping="m",le="1"} 7',
    ].join('\n');
    expect(parseMetrics(text)).toEqual({
      eventsTotal: 15,
      freshness: { sum: 3.5, count: 7 },
      heartbeatAgeSeconds: 12.5,
    });
    expect(parseMetrics('')).toEqual({});
  });

  it('gives a rate only between two samples', () => {
    expect(ratePerSecond(undefined, { atMs: 1000, value: 5 })).toBeNull();
    expect(ratePerSecond({ atMs: 1000, value: 5 }, { atMs: 1000, value: 9 })).toBeNull();
    expect(ratePerSecond({ atMs: 1000, value: 5 }, { atMs: 3000, value: 9 })).toBe(2);
    // A restarted worker's counter went back: unknown, not negative.
    expect(ratePerSecond({ atMs: 1000, value: 9 }, { atMs: 3000, value: 1 })).toBeNull();
  });

  it("finds a worker from a group member's host", () => {
    expect(workerUrlOf('/10.0.0.5', 9464)).toBe('http://10.0.0.5:9464');
    expect(workerUrlOf('/::1', 9464)).toBe('http://[::1]:9464');
  });
});
