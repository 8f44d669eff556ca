import { SinkWriteError } from '../../src/core/errors';
import { FerryEvents } from '../../src/core/events';
import { createRetry } from '../../src/core/retry';
import type { WriteIntent } from '../../src/core/write-intent';
import { compileMapping } from '../../src/mapping/define-mapping';
import { changes } from '../../src/mapping/testing';
import { consumerProbes } from '../../src/observability/http-server';
import { createLogger } from '../../src/observability/logger';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import type { Sink, WriteControl } from '../../src/core/batch';
import { MemorySink } from '../../src/sink/memory/memory-sink';
import type { EnvelopeDecoder } from '../../src/source/debezium/envelope';
import { ChangeConsumer, ConsumerFailedError } from '../../src/source/kafka/change-consumer';
import { fakeKafka } from '../support/fake-consumer';
import { waitFor } from '../support/stack';

const TOPIC = 'p.db.things';
const mapping = compileMapping({
  name: 'things',
  source: { table: 'db.things' },
  target: { table: 'things', partitionKey: 'pk' },
  key: (row: { id: number }) => ({ pk: `T#${row.id}` }),
  item: (row: { id: number }) => ({ id: row.id }),
});
const decoder: EnvelopeDecoder = {
  decode: async (value) => ({
    kind: 'change',
    event: changes.insert('db.things', JSON.parse(String(value)) as Record<string, unknown>),
  }),
  keyShape: async (key) => (key === null ? null : 'id'),
};
const messages = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    key: Buffer.from('k'),
    value: Buffer.from(JSON.stringify({ id: from + i })),
    offset: String(from + i),
  }));

/** A sink that fails retriably with a long backoff until the pipeline gives the work up. */
const blockedSink = (attempts: { count: number }): Sink => ({
  write: (_intents: WriteIntent[], control?: WriteControl) =>
    createRetry({
      shouldStop: control?.shouldStop,
      signal: control?.signal,
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
    })(async () => {
      attempts.count++;
      throw new SinkWriteError('throttled', { retriable: true });
    }),
});

/** A memory sink whose writes wait until the test opens the gate. */
function gatedSink(memory: MemorySink) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered = 0;
  const sink: Sink = {
    write: async (intents) => {
      entered++;
      await gate;
      return memory.write(intents);
    },
  };
  return { sink, open, entered: () => entered };
}

async function harness(sink: Sink, options: { maxChunk?: number } = {}) {
  const events = new FerryEvents();
  const processor = new BatchProcessor({
    mapping,
    itemRules: { numberOverflow: 'error' },
    decoder,
    sink,
    deadLetters: { publish: async () => undefined },
    events,
  });
  const fake = fakeKafka(TOPIC);
  const consumer = new ChangeConsumer(
    fake.kafka,
    processor,
    {
      groupId: 'ferry.things',
      topic: TOPIC,
      fromBeginning: true,
      partitionsConsumedConcurrently: 4,
      maxChunk: options.maxChunk ?? 100,
      sessionTimeoutMs: 30_000,
    },
    createLogger('silent', 2),
    events,
  );
  await consumer.start();
  return { consumer, kafka: fake.consumer(), events };
}

describe('source > kafka > change consumer', () => {
  it('writes a batch chunk by chunk, resolving and committing after each durable chunk', async () => {
    const memory = new MemorySink();
    const { kafka } = await harness(memory, { maxChunk: 2 });
    kafka.join([0, 1]);
    const delivery = await kafka.deliver(1, messages(10, 5));
    expect(delivery.resolved).toEqual(['11', '13', '14']);
    expect(delivery.commits).toBe(3);
    expect(memory.items('things')).toHaveLength(5);
  });

  it('abandons a batch, uncommitted, when a new assignment leaves its partition out, ending its backoff at once', async () => {
    const attempts = { count: 0 };
    const { kafka } = await harness(blockedSink(attempts));
    kafka.join([0, 3]);
    const delivery = kafka.deliver(3, messages(0, 3));
    await waitFor('the first failed write', async () => attempts.count > 0, 10_000, 10);
    kafka.join([0]);
    expect((await delivery).resolved).toEqual([]);
    expect(attempts.count).toBe(1);
  });

  it('does not commit a chunk whose write finished after its partition was assigned elsewhere', async () => {
    const memory = new MemorySink();
    const gated = gatedSink(memory);
    const { kafka } = await harness(gated.sink, { maxChunk: 2 });
    kafka.join([2]);
    const delivery = kafka.deliver(2, messages(0, 4));
    await waitFor('the write to start', async () => gated.entered() > 0, 10_000, 10);
    kafka.join([5]);
    gated.open();
    const { resolved, commits } = await delivery;
    expect(resolved).toEqual([]);
    expect(commits).toBe(0);
    expect(gated.entered()).toBe(1); // the rest of the batch is left to the new owner
  });

  it('revokes every in-flight batch when the group starts rebalancing', async () => {
    const attempts = { count: 0 };
    const { kafka } = await harness(blockedSink(attempts));
    kafka.join([0, 1]);
    const deliveries = [kafka.deliver(0, messages(0, 2)), kafka.deliver(1, messages(0, 2))];
    await waitFor('both partitions blocked', async () => attempts.count >= 2, 10_000, 10);
    kafka.rebalancing();
    for (const d of await Promise.all(deliveries)) expect(d.resolved).toEqual([]);
  });

  it('keeps and commits a batch whose partition the new assignment still has', async () => {
    const memory = new MemorySink();
    const gated = gatedSink(memory);
    const { kafka } = await harness(gated.sink);
    kafka.join([4]);
    const delivery = kafka.deliver(4, messages(7, 2));
    await waitFor('the write to start', async () => gated.entered() > 0, 10_000, 10);
    kafka.join([4, 5]);
    gated.open();
    expect((await delivery).resolved).toEqual(['8']);
    expect(memory.items('things')).toHaveLength(2);
  });

  it('refuses a batch of a partition the newest assignment does not have', async () => {
    const memory = new MemorySink();
    const { kafka } = await harness(memory);
    kafka.join([1]);
    expect((await kafka.deliver(6, messages(0, 2))).resolved).toEqual([]);
    expect(memory.items('things')).toEqual([]);
  });

  it('abandons a blocked batch, uncommitted, when a heartbeat fails', async () => {
    const attempts = { count: 0 };
    const { kafka } = await harness(blockedSink(attempts));
    kafka.join([0]);
    kafka.heartbeatError = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
    expect((await kafka.deliver(0, messages(0, 2))).resolved).toEqual([]);
  });

  it('stop() ends a backoff at once and resolves nothing', async () => {
    const attempts = { count: 0 };
    const { consumer, kafka } = await harness(blockedSink(attempts));
    kafka.join([0]);
    const delivery = kafka.deliver(0, messages(0, 2));
    await waitFor('the first failed write', async () => attempts.count > 0, 10_000, 10);
    await consumer.stop();
    expect((await delivery).resolved).toEqual([]);
  });

  it('settles failed, naming topic and group, when kafkajs crashes and will not restart', async () => {
    const { consumer, kafka } = await harness(new MemorySink());
    kafka.join([0]);
    const failed = jest.fn();
    void consumer.failed.then(failed);
    kafka.crash(new Error('restartable'), true);
    await new Promise((r) => setImmediate(r));
    expect(failed).not.toHaveBeenCalled();
    kafka.crash(Object.assign(new Error('incompatible protocols'), { type: 'INCONSISTENT_GROUP_PROTOCOL' }), false);
    const error = await consumer.failed;
    expect(error).toBeInstanceOf(ConsumerFailedError);
    expect(error.message).toMatch(/consumer of p\.db\.things \(group ferry\.things\) crashed .*incompatible protocols/);
  });

  it('a crash during stop is not a failure', async () => {
    const { consumer, kafka } = await harness(new MemorySink());
    const failed = jest.fn();
    void consumer.failed.then(failed);
    await consumer.stop();
    kafka.crash(new Error('closing'), false);
    await new Promise((r) => setImmediate(r));
    expect(failed).not.toHaveBeenCalled();
  });
});

describe('observability > consumer probes', () => {
  it('is ready once joined, not while crashed, and ready again once kafkajs has rejoined', () => {
    const events = new FerryEvents();
    const probes = consumerProbes(events);
    expect(probes.ready()).toBe(false);
    events.emit('consumer.state', { state: 'joined' });
    expect(probes.ready()).toBe(true);
    events.emit('consumer.state', { state: 'crashed', detail: 'KafkaJSNumberOfRetriesExceeded' });
    expect(probes.ready()).toBe(false);
    expect(probes.live()).toBe(true);
    events.emit('consumer.state', { state: 'joined' });
    expect(probes.ready()).toBe(true);
  });

  it('is neither live nor ready once the consumer has failed for good', () => {
    const events = new FerryEvents();
    const probes = consumerProbes(events);
    events.emit('consumer.state', { state: 'joined' });
    probes.fail();
    expect(probes.live()).toBe(false);
    expect(probes.ready()).toBe(false);
  });
});
