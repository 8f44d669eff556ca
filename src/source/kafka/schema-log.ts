import type { Admin, Kafka, Producer } from 'kafkajs';
import type { KafkaOrigin } from '../../core/change-event';
import type { ColumnSchema, SchemaChangeClass } from '../../core/row-schema';
import { readRange } from './read-range';

/** The last source schema a mapping's worker saw, kept in Kafka so that a restart compares with it. */
export interface SchemaRecord {
  mapping: string;
  table: string;
  columns: ColumnSchema[];
  /** The source position (`_ferry_version` form) of the change that first carried it, and where that change was. */
  version: string;
  origin: KafkaOrigin;
  seenAt: string;
  /**
   * The newest change of schema that may have left items unlike their rows (not harmless),
   * carried forward: a rebuild from the topic replays rows not changed since in their old shape.
   */
  drift?: { version: string; at: string; class: SchemaChangeClass; reasons: string[] };
}

/** One compacted record per mapping (keyed by its name): the newest schema stays, the rest goes. */
export const schemaTopic = (topicPrefix: string) => `${topicPrefix}.ferry-schemas`;

export async function ensureSchemaTopic(admin: Pick<Admin, 'createTopics'>, topicPrefix: string): Promise<void> {
  await admin.createTopics({
    topics: [
      {
        topic: schemaTopic(topicPrefix),
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'max.message.bytes', value: String(8 * 1024 * 1024) },
        ],
      },
    ],
    waitForLeaders: true,
  });
}

/** The newest schema recorded for the mapping, if any: the topic is read to its end, nothing committed. */
export async function lastSchema(
  kafka: Pick<Kafka, 'admin' | 'consumer'>,
  topicPrefix: string,
  mapping: string,
): Promise<SchemaRecord | undefined> {
  let last: SchemaRecord | undefined;
  await readRange(kafka, {
    topic: schemaTopic(topicPrefix),
    onBatch: async (_partition, messages) => {
      for (const m of messages)
        if (m.key?.toString() === mapping && m.value !== null) last = JSON.parse(m.value.toString()) as SchemaRecord;
    },
  });
  return last;
}

export async function recordSchema(producer: Producer, topicPrefix: string, record: SchemaRecord): Promise<void> {
  await producer.send({
    topic: schemaTopic(topicPrefix),
    acks: -1,
    messages: [{ key: record.mapping, value: JSON.stringify(record) }],
  });
}
