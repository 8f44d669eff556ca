import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { configSchema } from '../../src/config/config';
import { createKafka } from '../../src/source/kafka/kafka-client';
import { stack } from '../support/stack';

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
});
