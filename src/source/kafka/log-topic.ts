import type { Admin } from 'kafkajs';
import { describeDuration, topicPolicy } from './history';

export interface LogTopic {
  topic: string;
  numPartitions: number;
  retentionHours: number;
  maxMessageBytes?: number;
}

/**
 * Creates a topic ferry appends its own records to (dead letters, applied changes) with its
 * retention. An existing topic keeps its own: shortening it here would delete records nobody has
 * read. Returns the retention and partitions the topic has, and whether the retention differs
 * from the setting.
 */
export async function ensureLogTopic(
  admin: Pick<Admin, 'createTopics' | 'describeConfigs' | 'fetchTopicOffsets'>,
  { topic, numPartitions, retentionHours, maxMessageBytes }: LogTopic,
): Promise<{ created: boolean; retention: string; differs: boolean; partitions: number }> {
  const retentionMs = String(retentionHours * 3_600_000);
  const created = await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions,
        configEntries: [
          ...(maxMessageBytes ? [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] : []),
          { name: 'retention.ms', value: retentionMs },
        ],
      },
    ],
    waitForLeaders: true,
  });
  const kept = created ? retentionMs : (await topicPolicy(admin, topic)).retentionMs;
  const partitions = created ? numPartitions : (await admin.fetchTopicOffsets(topic)).length;
  return { created, retention: describeDuration(kept), differs: kept !== retentionMs, partitions };
}
