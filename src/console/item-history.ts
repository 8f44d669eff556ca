import type { Kafka } from 'kafkajs';
import { type AppliedMessage, type AppliedRecord, appliedPartition } from '../pipeline/applied-log';
import { readRange } from '../source/kafka/read-range';

/** One record of an item's history, with the message that carried it. */
export interface ItemHistoryEntry {
  record: AppliedRecord;
  source: AppliedMessage['source'];
  appliedAtMs: number;
  /** Where the record is in the applied-changes log. */
  at: { partition: number; offset: string };
}

/**
 * The records of one item in the applied-changes log, oldest first (the newest `limit` kept):
 * only the partition that holds the item's key is read, message by message, to its end.
 */
export async function itemHistory(
  kafka: Pick<Kafka, 'admin' | 'consumer'>,
  topic: string,
  keyText: string,
  limit = 200,
): Promise<{ entries: ItemHistoryEntry[]; total: number; partition: number }> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: Array<{ partition: number; high: string }>;
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const partition = appliedPartition(keyText, offsets.length);
  // Every other partition starts at its end, so nothing of it is read.
  const from = new Map(offsets.filter((o) => o.partition !== partition).map((o) => [o.partition, o.high]));
  const entries: ItemHistoryEntry[] = [];
  let total = 0;
  await readRange(kafka, {
    topic,
    from,
    onBatch: async (at, messages) => {
      for (const m of messages) {
        if (m.value === null) continue;
        const message = JSON.parse(m.value.toString('utf8')) as AppliedMessage;
        for (const record of message.records) {
          if (record.key === null || JSON.stringify(record.key) !== keyText) continue;
          total++;
          entries.push({
            record,
            source: message.source,
            appliedAtMs: message.appliedAtMs,
            at: { partition: at, offset: m.offset },
          });
          if (entries.length > limit) entries.shift();
        }
      }
    },
  });
  return { entries, total, partition };
}
