/**
 * Compaction on demand, without touching the broker's config. The log cleaner compacts only
 * closed segments, whose records are older than min.compaction.lag.ms, and looks for work every
 * 15 s (log.cleaner.backoff.ms); a segment closes when a record arrives after segment.ms.
 */
import { ConfigResourceTypes } from 'kafkajs';
import { readRange } from '../../src/source/kafka/read-range';
import { kafka } from './stack';

/** Sets topic settings, keeping the topic's other ones: AlterConfigs replaces every setting of the topic. */
export async function alterTopicConfig(topic: string, settings: Record<string, string>): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    // configSource 1: DYNAMIC_TOPIC_CONFIG, set on the topic (here, by Connect when it created it).
    const kept = (resources[0]?.configEntries ?? []).filter((e) => e.configSource === 1 && !(e.configName in settings));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [
            ...kept.map((e) => ({ name: e.configName, value: e.configValue })),
            ...Object.entries(settings).map(([name, value]) => ({ name, value })),
          ],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Closed segments become cleanable at once, a segment closes at the first record a second after it opened. */
export const EAGER_COMPACTION = {
  'min.compaction.lag.ms': '0',
  'segment.ms': '1000',
  'min.cleanable.dirty.ratio': '0.01',
};

export interface HeldRecord {
  partition: number;
  offset: bigint;
  key: string;
  /** null for a tombstone. */
  value: string | null;
}

/** What the topic holds now below its end offsets, read from its log start; its log starts and end offsets. */
export async function topicRecords(topic: string): Promise<{ records: HeldRecord[]; end: bigint; starts: string[] }> {
  const admin = kafka().admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const records: HeldRecord[] = [];
  await readRange(kafka(), {
    topic,
    onBatch: async (partition, messages) => {
      for (const m of messages)
        if (BigInt(m.offset) < (ends.get(partition) ?? 0n))
          records.push({
            partition,
            offset: BigInt(m.offset),
            key: m.key?.toString() ?? '',
            value: m.value === null || m.value.length === 0 ? null : m.value.toString(),
          });
    },
  });
  return { records, end: [...ends.values()].reduce((a, b) => a + b, 0n), starts: offsets.map((o) => o.low) };
}

/** Tombstones whose delete event is gone: the record before each in its partition is not a change of its key. */
export function loneTombstones(records: readonly HeldRecord[]): HeldRecord[] {
  const at = new Map(records.map((r) => [`${r.partition}/${r.offset}`, r]));
  return records.filter((r) => {
    if (r.value !== null) return false;
    const previous = at.get(`${r.partition}/${r.offset - 1n}`);
    return !(previous && previous.key === r.key && previous.value !== null);
  });
}

/** The row id a key of the accounts table names. */
export const keyId = (key: string) => Number((JSON.parse(key) as { payload: { id: number } }).payload.id);
