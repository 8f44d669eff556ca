import { throwawayGroupId } from './read-range';
import { type Admin, ConfigResourceTypes, type Kafka } from 'kafkajs';
import { FerryError, describe } from '../../core/errors';
import { notificationTopic } from '../debezium/connector-config';
import type { EnvelopeDecoder, RecordDecoder } from '../debezium/envelope';
import { tableScansCompleted } from '../debezium/notifications';
import { type SchemaRecord, lastSchema, schemaTopic } from './schema-log';

/** How the broker keeps a topic's records (topic settings, broker defaults filled in). */
export interface TopicPolicy {
  cleanupPolicy: string;
  retentionMs: string;
  retentionBytes: string;
  minCompactionLagMs: string;
  deleteRetentionMs: string;
}

/** What a partition's first record still in the log is. */
export type FirstRecordKind = 'initial snapshot read' | 'incremental snapshot read' | 'change' | 'tombstone' | 'other';

export interface PartitionHistory {
  partition: number;
  /** First offset still in the log (offsets before it were deleted by retention or on request). */
  start: string;
  end: string;
  /** The first record still there, when the partition holds any. */
  first?: { offset: string; time: string; kind: FirstRecordKind };
}

/** Whether replaying a topic from its start gives the table's whole history, and if not, why. */
export interface History {
  topic: string;
  policy: TopicPolicy;
  partitions: PartitionHistory[];
  /** True when a replay from the start rebuilds every row. */
  complete: boolean;
  /** What a replay from the start misses, one clause each; empty when complete. */
  missing: string[];
}

const POLICY_SETTINGS = {
  'cleanup.policy': 'cleanupPolicy',
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'min.compaction.lag.ms': 'minCompactionLagMs',
  'delete.retention.ms': 'deleteRetentionMs',
} as const;

export async function topicPolicy(admin: Pick<Admin, 'describeConfigs'>, topic: string): Promise<TopicPolicy> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: Object.keys(POLICY_SETTINGS) }],
  });
  const entries = new Map((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
  const policy = {} as TopicPolicy;
  for (const [setting, field] of Object.entries(POLICY_SETTINGS)) policy[field] = entries.get(setting) ?? 'unknown';
  return policy;
}

/** A duration setting in words: `-1` is forever. */
export function describeDuration(ms: string): string {
  if (ms === '-1') return 'forever';
  const n = Number(ms);
  if (!Number.isFinite(n)) return ms;
  const [count, unit] =
    n % 86_400_000 === 0 ? [n / 86_400_000, 'day'] : n % 3_600_000 === 0 ? [n / 3_600_000, 'hour'] : [n, 'ms'];
  return unit === 'ms' ? `${count} ms` : `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** What the topic's policy keeps, in one line. */
export function describePolicy(policy: TopicPolicy): string {
  const kinds = policy.cleanupPolicy.split(',');
  const parts = [`cleanup.policy=${policy.cleanupPolicy}`];
  if (kinds.includes('compact'))
    parts.push(
      `the newest change of every row is kept; delete events stay ${describeDuration(policy.minCompactionLagMs)} before compaction may drop them, tombstones ${describeDuration(policy.deleteRetentionMs)} after`,
    );
  if (kinds.includes('delete'))
    parts.push(
      policy.retentionMs === '-1' && policy.retentionBytes === '-1'
        ? 'nothing is deleted by age or size'
        : `records older than ${describeDuration(policy.retentionMs)}${policy.retentionBytes === '-1' ? '' : ` or past ${policy.retentionBytes} bytes a partition`} are deleted`,
    );
  return parts.join(': ');
}

/**
 * Reads the first record still in every partition that holds one (a throwaway group, nothing
 * committed). On a compacted topic that record may sit past the log start.
 */
export async function firstRecords(
  kafka: Pick<Kafka, 'consumer'>,
  topic: string,
  partitions: ReadonlyArray<{ partition: number; start: string; end: string }>,
  decoder: EnvelopeDecoder,
  timeoutMs = 60_000,
): Promise<Map<number, NonNullable<PartitionHistory['first']>>> {
  const wanted = new Set(partitions.filter((p) => BigInt(p.end) > BigInt(p.start)).map((p) => p.partition));
  const found = new Map<number, NonNullable<PartitionHistory['first']>>();
  if (wanted.size === 0) return found;
  const consumer = kafka.consumer({ groupId: throwawayGroupId() });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new FerryError(
              `reading the first records of ${topic}: partitions ${[...wanted].filter((p) => !found.has(p)).join(', ')} gave none within ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(new FerryError(`reading the first records of ${topic}: ${describe(payload.error)}`));
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const message = batch.messages[0];
            if (message === undefined || found.has(batch.partition)) return;
            const origin = { topic, partition: batch.partition, offset: message.offset };
            found.set(batch.partition, {
              offset: message.offset,
              time: new Date(Number(message.timestamp)).toISOString(),
              kind: await kindOf(decoder, message.value, origin),
            });
            consumer.pause([{ topic, partitions: [batch.partition] }]);
            if ([...wanted].every((p) => found.has(p))) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return found;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

async function kindOf(
  decoder: EnvelopeDecoder,
  value: Buffer | null,
  origin: Parameters<EnvelopeDecoder['decode']>[1],
): Promise<FirstRecordKind> {
  try {
    const decoded = await decoder.decode(value, origin);
    if (decoded.kind === 'skip') return decoded.reason === 'tombstone' ? 'tombstone' : 'other';
    const snapshot = decoded.event.position.snapshot;
    return snapshot === false ? 'change' : `${snapshot} snapshot read`;
  } catch {
    // An undecodable first record says nothing about the snapshot; the worker dead-letters it.
    return 'other';
  }
}

/**
 * Judges whether a replay from the start of the topic is the table's whole history. It is when
 * no partition has lost records to retention (log start 0 everywhere) and the topic begins with
 * the connector's initial snapshot: some partition's first record is one of its reads. On a
 * compacted topic a row's older records are gone only because a newer one of the same row
 * stays, so compaction alone loses nothing. A change of the source schema that may have
 * changed rows without a change event (not harmless) leaves it incomplete until a snapshot of the
 * table completes after it.
 */
export function judgeHistory(
  topic: string,
  table: string,
  policy: TopicPolicy,
  partitions: PartitionHistory[],
  schema: SchemaHistory = { scansCompletedMs: [] },
): History {
  const missing: string[] = [];
  for (const p of partitions) {
    if (p.start === '0' || BigInt(p.end) === 0n) continue;
    const first = p.first ? ` (its first record is from ${p.first.time})` : ' (it is empty now)';
    missing.push(`partition ${p.partition} starts at offset ${p.start}${first}`);
  }
  if (missing.length === 0) {
    const held = partitions.filter((p) => p.first !== undefined);
    if (held.length === 0) missing.push(`${topic} holds no change of ${table}`);
    else if (!held.some((p) => p.first?.kind === 'initial snapshot read')) {
      const earliest = held.map((p) => p.first?.time as string).sort()[0];
      missing.push(
        `no partition begins with a read of the connector's initial snapshot (its first records are changes from ${earliest} on): rows ${table} held before then and has not changed since are not in the topic, unless it was empty then`,
      );
    }
  }
  // Rows an ALTER changed and no change has touched since are in the topic in their old shape.
  const drift = schema.drift;
  if (drift && !schema.scansCompletedMs.some((ms) => ms >= Date.parse(drift.at)))
    missing.push(
      `the source schema of ${table} changed at ${drift.at} (${drift.reasons.join('; ')}): rows not changed since are in the topic as they were before, and no snapshot of the table has completed since`,
    );
  return { topic, policy, partitions, complete: missing.length === 0, missing };
}

/** The one line that says what a replay from the start misses. */
export function describeGaps(history: History): string {
  return `the history in ${history.topic} is incomplete: ${history.missing.join('; ')}`;
}

/** A schema change that may have left items unlike their rows, and when snapshots of the table completed. */
export interface SchemaHistory {
  drift?: NonNullable<SchemaRecord['drift']>;
  scansCompletedMs: number[];
}

/**
 * Log start, end and first record of every partition, the topic's policy, the last schema
 * change the mapping's workers recorded and the snapshots completed since, and the judgement.
 */
export async function topicHistory(
  kafka: Pick<Kafka, 'admin' | 'consumer'>,
  admin: Pick<Admin, 'describeConfigs' | 'fetchTopicOffsets' | 'listTopics'>,
  options: {
    topic: string;
    table: string;
    topicPrefix: string;
    mapping: string;
    decoder: EnvelopeDecoder & RecordDecoder;
  },
): Promise<History> {
  const { topic, table, topicPrefix, mapping, decoder } = options;
  const [policy, offsets, topics] = await Promise.all([
    topicPolicy(admin, topic),
    admin.fetchTopicOffsets(topic),
    admin.listTopics(),
  ]);
  const ranges = offsets
    .map(({ partition, low, high }) => ({ partition, start: low, end: high }))
    .sort((a, b) => a.partition - b.partition);
  const [first, drift] = await Promise.all([
    firstRecords(kafka, topic, ranges, decoder),
    topics.includes(schemaTopic(topicPrefix))
      ? lastSchema(kafka, topicPrefix, mapping).then((r) => r?.drift)
      : undefined,
  ]);
  const notifications = notificationTopic(topicPrefix);
  const scansCompletedMs =
    drift && topics.includes(notifications) ? await tableScansCompleted(kafka, notifications, table, decoder) : [];
  return judgeHistory(
    topic,
    table,
    policy,
    ranges.map((r) => ({ ...r, ...(first.has(r.partition) ? { first: first.get(r.partition) } : {}) })),
    { ...(drift ? { drift } : {}), scansCompletedMs },
  );
}
