import type { Kafka, KafkaMessage } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { FerryError, describe } from '../../core/errors';

export interface ReadRangeOptions {
  topic: string;
  /** With a group, reading starts at its committed offsets and commits progress; without, from the start. */
  groupId?: string;
  /** Explicit start offsets per partition (no group). */
  from?: Map<number, string>;
  onBatch: (partition: number, messages: KafkaMessage[]) => Promise<void>;
  /** Ends the read early once true (asked after each batch): a reader that has what it needs. */
  enough?: () => boolean;
}

/** A group of its own for a one-off read: nothing it commits is anyone else's. */
export const throwawayGroupId = (): string => `ferry-cli-${randomBytes(4).toString('hex')}`;

/** Reading stopped before the end: the consumer crashed or a batch's handler failed. */
export class ReadRangeError extends FerryError {}

/**
 * Reads a topic from a start position up to the end offsets it had when called, then stops.
 * Without a group id it reads under a throwaway group and commits nothing. It rejects, naming
 * the topic and partition, when the consumer crashes (kafkajs reports that as an event, not by
 * rejecting run()) or onBatch throws; the consumer is disconnected either way.
 */
export async function readRange(
  kafka: Pick<Kafka, 'admin' | 'consumer'>,
  options: ReadRangeOptions,
): Promise<{ messages: number }> {
  const { topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = options.groupId ?? throwawayGroupId();
  let starts: Map<number, bigint>;
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    const committed = options.groupId ? await admin.fetchOffsets({ groupId, topics: [topic] }) : [];
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
  let failed = false;
  let stopped = false;
  const consumer = kafka.consumer({ groupId });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string, cause: unknown) => {
        if (failed) return;
        failed = true;
        reject(new ReadRangeError(`reading ${message}: ${describe(cause)}`, { cause }));
      };
      consumer.on(consumer.events.CRASH, ({ payload }) =>
        fail(
          `${topic} (partitions ${[...pending].sort((a, b) => a - b).join(', ')} not read to the end): the consumer crashed`,
          payload.error,
        ),
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (failed || stopped) return;
            const end = ends.get(batch.partition) ?? 0n;
            const messages = batch.messages.filter((m) => BigInt(m.offset) < end);
            if (messages.length > 0) {
              const next = (BigInt((messages.at(-1) as KafkaMessage).offset) + 1n).toString();
              try {
                await options.onBatch(batch.partition, messages);
                if (options.groupId)
                  await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
              } catch (err) {
                const range = `${messages[0]?.offset}..${messages.at(-1)?.offset}`;
                return fail(`${topic} partition ${batch.partition} at offsets ${range}`, err);
              }
              count += messages.length;
            }
            if (options.enough?.()) {
              stopped = true;
              return resolve();
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) {
              pending.delete(batch.partition);
              if (pending.size === 0) resolve();
            }
          },
        })
        .catch((err: unknown) => fail(topic, err));
      for (const [partition, offset] of starts) consumer.seek({ topic, partition, offset: offset.toString() });
    });
  } finally {
    await consumer.disconnect();
    if (!options.groupId) {
      const cleanup = kafka.admin();
      // Best effort: a throwaway group left behind expires by itself; the read's own outcome matters more.
      await cleanup
        .connect()
        .then(() => cleanup.deleteGroups([groupId]))
        .catch(() => undefined);
      await cleanup.disconnect().catch(() => undefined);
    }
  }
  return { messages: count };
}
