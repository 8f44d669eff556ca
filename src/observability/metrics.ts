import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FerryEvents } from '../core/events';

/**
 * The only place that knows prom-client: turns instrumentation events into Prometheus series.
 * Given the mapping, its lost-delete and schema-change series start at 0, so that an alert on
 * their increase sees the first one (a series born at 1 shows no increase).
 */
export function createMetrics(
  events: FerryEvents,
  sourceTable: string,
  mapping?: { name: string; targetTable: string },
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ferry_' });
  const changes = new Counter({
    name: 'ferry_events_total',
    help: 'Change events by source table, operation and outcome',
    labelNames: ['mapping', 'table', 'op', 'outcome'],
    registers: [registry],
  });
  const seconds = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames: ['mapping'], buckets, registers: [registry] });
  const latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  const batchSeconds = seconds(
    'ferry_batch_duration_seconds',
    'Time to decode, map, write and dead-letter one chunk of messages',
    latency,
  );
  const writeSeconds = seconds(
    'ferry_write_duration_seconds',
    'Time to write one chunk to DynamoDB, retries included',
    latency,
  );
  const freshness = seconds(
    'ferry_freshness_seconds',
    'Source commit to DynamoDB acknowledgement, newest change of each chunk',
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
  );
  const lag = new Gauge({
    name: 'ferry_consumer_lag_messages',
    help: 'Messages between the last processed offset and the partition end',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
  const throttles = new Counter({
    name: 'ferry_dynamodb_throttles_total',
    help: 'Throttled DynamoDB requests',
    labelNames: ['table'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'ferry_dynamodb_retries_total',
    help: 'Retry rounds of DynamoDB writes',
    registers: [registry],
  });
  const retriesExhausted = new Counter({
    name: 'ferry_dynamodb_retries_exhausted_total',
    help: "Writes dead-lettered because they kept failing past the mapping's retry limit",
    labelNames: ['table'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'ferry_dead_letters_total',
    help: 'Messages sent to the dead-letter topic',
    labelNames: ['mapping', 'error'],
    registers: [registry],
  });

  const keyChanges = new Counter({
    name: 'ferry_source_key_changes_total',
    help: "Times the topic's Kafka key changed columns (a row's changes may have split over partitions)",
    labelNames: ['mapping', 'topic'],
    registers: [registry],
  });

  const unsafeGrowths = new Counter({
    name: 'ferry_unsafe_partition_growths_total',
    help: "Times the topic's partitions grew while older partitions still had unprocessed messages from before it",
    labelNames: ['topic'],
    registers: [registry],
  });

  const lostDeletes = new Counter({
    name: 'ferry_lost_deletes_total',
    help: 'Rows deleted at the source whose delete event compaction removed before the worker read it: their items are still in DynamoDB',
    labelNames: ['mapping', 'table'],
    registers: [registry],
  });
  if (mapping) lostDeletes.inc({ mapping: mapping.name, table: mapping.targetTable }, 0);

  const loneTombstones = new Counter({
    name: 'ferry_lone_tombstones_total',
    help: 'Tombstones read without their delete event, by what the check of the row found (key-not-derivable: it cannot be checked)',
    labelNames: ['mapping', 'outcome'],
    registers: [registry],
  });

  const schemaChanges = new Counter({
    name: 'ferry_source_schema_changes_total',
    help: "Changes of the source table's columns, by what they mean for items already written (harmless, existing rows may differ, mapping breaks)",
    labelNames: ['mapping', 'table', 'class'],
    registers: [registry],
  });
  const snapshotsRequested = new Counter({
    name: 'ferry_snapshots_requested_total',
    help: "Incremental snapshots the worker asked Debezium for after a schema change (onSchemaChange: 'snapshot')",
    labelNames: ['mapping', 'table'],
    registers: [registry],
  });
  if (mapping) {
    for (const change of ['harmless', 'existing rows may differ', 'mapping breaks'])
      schemaChanges.inc({ mapping: mapping.name, table: sourceTable, class: change }, 0);
    snapshotsRequested.inc({ mapping: mapping.name, table: sourceTable }, 0);
  }

  // Seconds each partition has been held by a retriable failure; 0 once it clears.
  const blockedSince = new Map<string, number>();
  new Gauge({
    name: 'ferry_partition_blocked_seconds',
    help: 'How long a retriable failure has held the partition (0 when it flows)',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      for (const [id, since] of blockedSince) {
        const [topic, partition] = id.split('\u0000') as [string, string];
        this.set({ topic, partition }, since === 0 ? 0 : (Date.now() - since) / 1000);
      }
    },
  });

  // When the connector last wrote a heartbeat, as the worker saw it (see source/debezium/capture-watch).
  const heartbeatSeen = new Map<string, number>();
  new Gauge({
    name: 'ferry_capture_heartbeat_age_seconds',
    help: "Seconds since the Debezium connector's heartbeat topic last grew (counted from the worker's start until the first): a stopped connector writes no heartbeat",
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      for (const [topic, seenAtMs] of heartbeatSeen) this.set({ topic }, Math.max(0, Date.now() - seenAtMs) / 1000);
    },
  });

  const unsubscribe = [
    events.on('capture.heartbeat', ({ topic, seenAtMs }) => heartbeatSeen.set(topic, seenAtMs)),
    events.on('partition.blocked', ({ topic, partition, sinceMs }) =>
      blockedSince.set(`${topic}\u0000${partition}`, sinceMs),
    ),
    events.on('partition.unblocked', ({ topic, partition }) => blockedSince.set(`${topic}\u0000${partition}`, 0)),
    events.on('batch.done', (b) => {
      for (const { op, outcome, count } of b.outcomes)
        changes.inc({ mapping: b.mapping, table: sourceTable, op, outcome }, count);
      batchSeconds.observe({ mapping: b.mapping }, b.durationMs / 1000);
      writeSeconds.observe({ mapping: b.mapping }, b.writeDurationMs / 1000);
      if (b.newestCommitMs > 0)
        freshness.observe({ mapping: b.mapping }, Math.max(0, Date.now() - b.newestCommitMs) / 1000);
      lag.set(
        { topic: b.topic, partition: String(b.partition) },
        Math.max(0, Number(b.highWatermark) - Number(b.lastOffset) - 1),
      );
    }),
    events.on('source.key-changed', ({ mapping, topic }) => keyChanges.inc({ mapping, topic })),
    events.on('source.partitions-grew', ({ topic }) => unsafeGrowths.inc({ topic })),
    events.on('source.lone-tombstone', ({ mapping, outcome }) => loneTombstones.inc({ mapping, outcome })),
    events.on('source.schema-changed', ({ mapping, table, judgement }) =>
      schemaChanges.inc({ mapping, table, class: judgement.class }),
    ),
    events.on('source.snapshot-requested', ({ mapping, table }) => snapshotsRequested.inc({ mapping, table })),
    events.on('sink.lost-delete', ({ mapping, table }) => lostDeletes.inc({ mapping, table })),
    events.on('sink.throttled', ({ table }) => throttles.inc({ table })),
    events.on('sink.retry', () => retries.inc()),
    events.on('sink.retries-exhausted', ({ table, items }) => retriesExhausted.inc({ table }, items)),
    events.on('dlq.sent', ({ mapping, error }) => deadLetters.inc({ mapping, error })),
  ];
  return { registry, close: () => unsubscribe.forEach((off) => off()) };
}
