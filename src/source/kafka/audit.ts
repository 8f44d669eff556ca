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

/** Appends who did what, and when, to a Kafka topic: as durable as the offsets it describes. */
export async function recordAudit(kafka: Kafka, topicPrefix: string, entry: AuditEntry): Promise<void> {
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
      topic: auditTopic(topicPrefix),
      acks: -1,
      messages: [{ key: entry.group, value: JSON.stringify(record) }],
    });
  } finally {
    await producer.disconnect();
  }
}
