import { ReadRangeError, readRange } from '../../src/source/kafka/read-range';
import { fakeKafka } from '../support/fake-consumer';
import { waitFor } from '../support/stack';

const TOPIC = 'p.dlq.things';
const message = (offset: number) => ({ key: null, value: Buffer.from(`m${offset}`), offset: String(offset) });

/** A topic with messages 0..2 in partition 0 and 0..1 in partition 1; reading has started. */
async function started(onBatch: (partition: number, messages: unknown[]) => Promise<void> = async () => undefined) {
  const fake = fakeKafka(TOPIC, [
    { partition: 0, low: '0', high: '3' },
    { partition: 1, low: '0', high: '2' },
  ]);
  const reading = readRange(fake.kafka, { topic: TOPIC, onBatch });
  void reading.catch(() => undefined);
  const consumer = await waitFor('the consumer to run', async () => {
    try {
      return fake.consumer().config ? fake.consumer() : undefined;
    } catch {
      return undefined;
    }
  });
  return { reading, consumer };
}

describe('source > kafka > read range', () => {
  it('reads every partition up to the end offsets it found, then stops and disconnects', async () => {
    const seen: string[] = [];
    const { reading, consumer } = await started(async (p, messages) => void seen.push(`${p}:${messages.length}`));
    expect(consumer.seeks).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ]);
    await consumer.deliver(0, [message(0), message(1), message(2)]);
    await consumer.deliver(1, [message(0), message(1)]);
    expect(await reading).toEqual({ messages: 5 });
    expect(seen).toEqual(['0:3', '1:2']);
    expect(consumer.disconnected).toBe(true);
  });

  it('rejects, naming the topic and the partitions left, when the consumer crashes; and disconnects', async () => {
    const { reading, consumer } = await started();
    await consumer.deliver(0, [message(0), message(1), message(2)]);
    consumer.crash(
      Object.assign(new Error("The group member's supported protocols are incompatible"), {
        type: 'INCONSISTENT_GROUP_PROTOCOL',
      }),
      false,
    );
    await expect(reading).rejects.toThrow(ReadRangeError);
    await expect(reading).rejects.toThrow(
      /reading p\.dlq\.things \(partitions 1 not read to the end\): the consumer crashed: .*protocols are incompatible/,
    );
    expect(consumer.disconnected).toBe(true);
  });

  it('rejects, naming the partition and offsets, when onBatch throws; and disconnects', async () => {
    const { reading, consumer } = await started(async (partition) => {
      if (partition === 1) throw new Error('table missing');
    });
    await consumer.deliver(1, [message(0), message(1)]);
    await expect(reading).rejects.toThrow(/reading p\.dlq\.things partition 1 at offsets 0\.\.1: Error: table missing/);
    expect(consumer.disconnected).toBe(true);
  });
});
