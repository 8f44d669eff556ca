import { readRange, throwawayGroupId } from '../kafka/read-range';
import type { Admin, Kafka } from 'kafkajs';
import { FerryError, describe } from '../../core/errors';
import type { RecordDecoder } from './envelope';

/** One of Debezium's notifications: `aggregate_type` "Incremental Snapshot", `type` STARTED … COMPLETED. */
export interface Notification {
  id: string;
  aggregate_type: string;
  type: string;
  additional_data: Record<string, string>;
}

/** Where an incremental snapshot stands, from its notifications. */
export interface SnapshotProgress {
  chunks: number;
  /** The last chunk's end key and the table's maximum key, as Debezium prints them (`[1024]`). */
  lastKey?: string;
  maximumKey?: string;
  rowsScanned?: number;
}

/** Debezium's notification types that end an incremental snapshot without completing it. */
const FAILED = new Set(['ABORTED']);

/**
 * Follows the notifications of one incremental snapshot (by its signal id) until it completes.
 * Rejects when it is aborted, when a table scan does not succeed, or when no notification of it
 * arrives within `startTimeoutMs` (notifications off on the connector, or the signal not read).
 */
export async function followSnapshot(
  kafka: Pick<Kafka, 'consumer'>,
  admin: Pick<Admin, 'listTopics'>,
  options: {
    topic: string;
    signalId: string;
    decoder: RecordDecoder;
    onProgress: (progress: SnapshotProgress) => void;
    startTimeoutMs?: number;
  },
): Promise<SnapshotProgress> {
  const { topic, signalId } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const silent = () =>
    new FerryError(
      `no notification of snapshot ${signalId} in ${topic} within ${startTimeoutMs / 1000} s: the connector needs notification.enabled.channels=sink and notification.sink.topic.name=${topic} (ferry connector prints both), and the signalling table in signal.data.collection`,
    );
  // The topic appears with the connector's first notification.
  const deadline = Date.now() + startTimeoutMs;
  while (!(await admin.listTopics()).includes(topic)) {
    if (Date.now() > deadline) throw silent();
    await new Promise((r) => setTimeout(r, 1000));
  }
  const progress: SnapshotProgress = { chunks: 0 };
  const consumer = kafka.consumer({ groupId: throwawayGroupId() });
  try {
    await consumer.connect();
    // The topic holds few records: read it all and keep this snapshot's.
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(
        () => {
          if (!started) reject(silent());
        },
        Math.max(0, deadline - Date.now()),
      );
      const finish = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      consumer.on(consumer.events.CRASH, ({ payload }) =>
        finish(new FerryError(`following snapshot ${signalId} in ${topic}: ${describe(payload.error)}`)),
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (message.value === null) return;
            const n = (await options.decoder.record(message.value, {
              topic,
              partition,
              offset: message.offset,
            })) as unknown as Notification;
            if (n.id !== signalId || n.aggregate_type !== 'Incremental Snapshot') return;
            started = true;
            const data = n.additional_data ?? {};
            if (n.type === 'IN_PROGRESS') {
              progress.chunks += 1;
              progress.lastKey = data.last_processed_key;
              progress.maximumKey = data.maximum_key;
            } else if (n.type === 'TABLE_SCAN_COMPLETED') {
              if (data.status !== undefined && data.status !== 'SUCCEEDED' && data.status !== 'EMPTY')
                return finish(
                  new FerryError(
                    `snapshot ${signalId} of ${data.data_collection ?? data.scanned_collection ?? 'the table'} ended ${data.status}: see the Kafka Connect log`,
                  ),
                );
              if (data.total_rows_scanned !== undefined) progress.rowsScanned = Number(data.total_rows_scanned);
            } else if (FAILED.has(n.type)) {
              return finish(new FerryError(`snapshot ${signalId} was ${n.type.toLowerCase()} by the connector`));
            }
            options.onProgress({ ...progress });
            if (n.type === 'COMPLETED') finish();
          },
        })
        .catch((err: Error) => finish(err));
    });
    return progress;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * When each incremental snapshot of the table that Debezium finished scanning was reported (the
 * notification's Kafka timestamp, epoch ms), from the connector's notification topic.
 */
export async function tableScansCompleted(
  kafka: Pick<Kafka, 'admin' | 'consumer'>,
  topic: string,
  table: string,
  decoder: RecordDecoder,
): Promise<number[]> {
  const completed: number[] = [];
  await readRange(kafka, {
    topic,
    onBatch: async (partition, messages) => {
      for (const m of messages) {
        if (m.value === null) continue;
        const n = (await decoder.record(m.value, { topic, partition, offset: m.offset })) as unknown as Notification;
        const data = n.additional_data ?? {};
        if (
          n.aggregate_type === 'Incremental Snapshot' &&
          n.type === 'TABLE_SCAN_COMPLETED' &&
          (data.data_collection ?? data.scanned_collection) === table &&
          (data.status === undefined || data.status === 'SUCCEEDED' || data.status === 'EMPTY')
        )
          completed.push(Number(m.timestamp));
      }
    },
  });
  return completed;
}
