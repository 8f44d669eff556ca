import type { Kafka, KafkaMessage } from 'kafkajs';
import { randomBytes } from 'node:crypto';

export interface ReadRangeOptions {
  topic: string;
  /** With a group, reading starts at its committed offsets and commits progress; without, from the start. */
  groupId?: string;
  /** Explicit start offsets per partition (no group). */
  from?: Map<number, string>;
  onBatch: (partition: number, messages: KafkaMessage[]) => Promise<void>;
}

/**
 * Reads a topic from a start position up to the end offsets it had when called, then stops.
 * Without a group id it reads under a throwaway group and commits nothing.
 */
export async function readRange(kafka: Kafka, options: ReadRangeOptions): Promise<{ messages: number }> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = options.groupId ?? `ferry-cli-${randomBytes(4).toString('hex')}`;
  let starts: Map<number, bigint>;
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(options.topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    const committed = options.groupId ? await admin.fetchOffsets({ groupId, topics: [options.topic] }) : [];
    const committedAt = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
    starts = new Map(
      offsets.map((o) => {
        const explicit = options.from?.get(o.partition);
        const c = committedAt.get(o.partition);
        return [o.partition, BigInt(explicit ?? (c !== undefined && c !== '-1' ? c : o.low))];
      }),
    );
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([p, end]) => (starts.get(p) ?? 0n) < end).map(([p]) => p));
  if (pending.size === 0) return { messages: 0 };

  let count = 0;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition) ?? 0n;
            const messages = batch.messages.filter((m) => BigInt(m.offset) < end);
            if (messages.length > 0) {
              await options.onBatch(batch.partition, messages);
              count += messages.length;
              const next = (BigInt((messages.at(-1) as KafkaMessage).offset) + 1n).toString();
              if (options.groupId)
                await consumer.commitOffsets([{ topic: options.topic, partition: batch.partition, offset: next }]);
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) {
              pending.delete(batch.partition);
              if (pending.size === 0) resolve();
            }
          },
        })
        .catch(reject);
      for (const [partition, offset] of starts)
        consumer.seek({ topic: options.topic, partition, offset: offset.toString() });
    });
  } finally {
    await consumer.disconnect();
    if (!options.groupId) {
      const cleanup = kafka.admin();
      await cleanup.connect();
      await cleanup.deleteGroups([groupId]).catch(() => undefined);
      await cleanup.disconnect();
    }
  }
  return { messages: count };
}
