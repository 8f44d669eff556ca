import { hostname, userInfo } from 'node:os';
import { type Kafka, Partitioners } from 'kafkajs';

export interface AuditEntry {
  action: string;
  group: string;
  topic: string;
  detail: Record<string, unknown>;
  /** Who acted, when not the OS user running the command (the console's authenticated user). */
  who?: string;
}

export const auditTopic = (topicPrefix: string) => `${topicPrefix}.ferry-audit`;

/**
 * Appends who did what, and when, to a Kafka topic: as durable as the offsets it describes. ferry
 * creates the topic (one partition, so entries stay in order; kept forever); a broker's
 * auto-creation, which many clusters turn off, would give it the broker's retention.
 */
export async function recordAudit(kafka: Kafka, topicPrefix: string, entry: AuditEntry): Promise<void> {
  const topic = auditTopic(topicPrefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Created only when missing: an operator allowed to write entries need not be allowed to create topics.
    if (!(await admin.listTopics()).includes(topic))
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
        waitForLeaders: true,
      });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const record = {
      ...entry,
      who: entry.who ?? `${userInfo().username}@${hostname()}`,
      when: new Date().toISOString(),
    };
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: entry.group, value: JSON.stringify(record) }],
    });
  } finally {
    await producer.disconnect();
  }
}
