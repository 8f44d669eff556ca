import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { DeadLetterPublisher, type DeadLetter } from '../../src/pipeline/dead-letters';

const letter = (offset: number, bytes: number): DeadLetter => ({
  origin: { topic: 'db.t', partition: 0, offset: String(offset) },
  key: Buffer.from(`k${offset}`),
  value: Buffer.alloc(bytes, 120),
  error: new Error('cannot map'),
});

describe('pipeline > dead letters', () => {
  it('sends letters in order, in batches a broker with the default 1 MB max.message.bytes accepts', async () => {
    const sends: Array<{ offsets: string[]; bytes: number }> = [];
    const producer = {
      send: async ({ messages }: { messages: Array<{ value: Buffer; headers: Record<string, string> }> }) => {
        sends.push({
          offsets: messages.map((m) => m.headers['ferry.origin.offset'] as string),
          bytes: messages.reduce((sum, m) => sum + m.value.length, 0),
        });
        return [];
      },
    };
    const publisher = new DeadLetterPublisher(producer as never, 'dlq', 'm');
    // 400 letters of 12 KB, as a chunk of wide rows with embedded schemas gives: 4.8 MB in all.
    await publisher.publish(Array.from({ length: 400 }, (_v, i) => letter(i, 12_000)));
    expect(sends.length).toBeGreaterThan(1);
    for (const { bytes } of sends) expect(bytes).toBeLessThan(1_000_000);
    expect(sends.flatMap((s) => s.offsets)).toEqual(Array.from({ length: 400 }, (_v, i) => String(i)));
  });

  it('sends a letter larger than a batch on its own', async () => {
    const sizes: number[] = [];
    const producer = { send: async ({ messages }: { messages: unknown[] }) => void sizes.push(messages.length) };
    await new DeadLetterPublisher(producer as never, 'dlq', 'm').publish([
      letter(0, 10),
      letter(1, 900_000),
      letter(2, 10),
    ]);
    expect(sizes).toEqual([1, 1, 1]);
  });

  it("never drops a letter Kafka refuses: it blocks, naming the fix for Kafka's non-retriable answers", async () => {
    // As kafkajs's retrier gives up on a non-retriable answer: the protocol error is the cause.
    const refused = new KafkaJSProtocolError({
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
      message: 'too large',
    } as never);
    const gaveUp = Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused });
    const producer = {
      send: async () => {
        throw gaveUp;
      },
    };
    const errors: string[] = [];
    let checks = 0;
    const publishing = new DeadLetterPublisher(producer as never, 'dlq', 'm', undefined, {
      initialDelayMs: 1,
      maxDelayMs: 2,
    }).publish([letter(0, 10)], {
      shouldStop: () => ++checks > 2,
      onRetry: (err) => errors.push((err as Error).message),
    });
    await expect(publishing).rejects.toThrow('retry abandoned');
    expect(errors[0]).toMatch(/cannot publish dead letters to dlq: .*raise it on the topic/);
  });
});
