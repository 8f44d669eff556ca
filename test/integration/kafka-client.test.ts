import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { configSchema } from '../../src/config/config';
import { auditTopic, recordAudit } from '../../src/source/kafka/audit';
import { topicPolicy } from '../../src/source/kafka/history';
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

  it("names a missing topic when its offsets are asked for (kafkajs's answer names none); asking or writing creates nothing", async () => {
    const settings = configSchema.parse({ mapping: 'm', kafka: { brokers: stack.kafkaBrokers } }).kafka;
    const kafka = createKafka(settings, pino({ level: 'silent' }));
    // kafkajs asks again for seconds by default: once is enough here.
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    const topic = `ferry-test-missing-${uniqueId()}`;
    try {
      await expect(admin.fetchTopicOffsets(topic)).rejects.toThrow(
        expect.objectContaining({ name: 'MissingTopicError', message: `topic ${topic} does not exist` }),
      );
      await expect(admin.fetchTopicOffsetsByTimestamp(topic, Date.now())).rejects.toThrow(
        `topic ${topic} does not exist`,
      );
      // Nor does a ferry producer writing to it.
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
      await producer.disconnect();
      // A broker creates a topic a moment after the request that asked for it.
      await sleep(2000);
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);

  it("creates the audit topic it writes: one partition, kept forever, not the broker's defaults", async () => {
    const settings = configSchema.parse({ mapping: 'm', kafka: { brokers: stack.kafkaBrokers } }).kafka;
    const kafka = createKafka(settings, pino({ level: 'silent' }));
    const prefix = `ferry-test-audit-${uniqueId()}`;
    const entry = { action: 'test', group: 'g', topic: 't', detail: {} };
    await recordAudit(kafka, prefix, entry);
    await recordAudit(kafka, prefix, { ...entry, action: 'again' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The local broker would auto-create it with 12 partitions and 7 days' retention.
      expect(await admin.fetchTopicOffsets(auditTopic(prefix))).toEqual([
        expect.objectContaining({ partition: 0, low: '0', high: '2' }),
      ]);
      expect((await topicPolicy(admin, auditTopic(prefix))).retentionMs).toBe('-1');
    } finally {
      await admin.deleteTopics({ topics: [auditTopic(prefix)] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
