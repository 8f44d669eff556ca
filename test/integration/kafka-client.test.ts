import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { configSchema } from '../../src/config/config';
import { createKafka } from '../../src/source/kafka/kafka-client';
import { stack, uniqueId } from '../support/stack';

describe('the Kafka client (local broker)', () => {
  it('sets no timers on idle connections (kafkajs 2.2.4 re-armed one every millisecond)', async () => {
    const settings = configSchema.parse({ mapping: 'm', kafka: { brokers: stack.kafkaBrokers } }).kafka;
    const kafka = createKafka(settings, pino({ level: 'silent' }));
    const admin = kafka.admin();
    const producer = kafka.producer();
    await admin.connect();
    await producer.connect();
    try {
      await admin.listTopics();
      const timers = jest.spyOn(global, 'setTimeout');
      await sleep(1000); // node:timers/promises, not the global setTimeout
      // Without the fix: about 880 a second for each of the two connections.
      expect(timers.mock.calls.length).toBeLessThan(20);
      timers.mockRestore();
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('logs no error when a topic it creates is there already; a creation that fails throws, naming why', async () => {
    const settings = configSchema.parse({ mapping: 'm', kafka: { brokers: stack.kafkaBrokers } }).kafka;
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const admin = createKafka(settings, logger).admin();
    await admin.connect();
    const topic = `ferry-test-exists-${uniqueId()}`;
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).toBe(true);
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).toBe(false);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      // One broker cannot hold three replicas: that fails, to the caller.
      await expect(
        admin.createTopics({ topics: [{ topic: `${topic}-x`, numPartitions: 1, replicationFactor: 3 }] }),
      ).rejects.toThrow(/replication factor|Topic creation errors/i);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it("names a missing topic when its offsets are asked for (kafkajs's answer names none), creating nothing", async () => {
    const settings = configSchema.parse({ mapping: 'm', kafka: { brokers: stack.kafkaBrokers } }).kafka;
    // kafkajs asks again for seconds by default: once is enough here.
    const admin = createKafka(settings, pino({ level: 'silent' })).admin({ retry: { retries: 0 } });
    await admin.connect();
    const topic = `ferry-test-missing-${uniqueId()}`;
    try {
      await expect(admin.fetchTopicOffsets(topic)).rejects.toThrow(
        expect.objectContaining({ name: 'MissingTopicError', message: `topic ${topic} does not exist` }),
      );
      await expect(admin.fetchTopicOffsetsByTimestamp(topic, Date.now())).rejects.toThrow(
        `topic ${topic} does not exist`,
      );
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);
});
