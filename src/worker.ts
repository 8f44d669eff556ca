import type { Server } from 'node:http';
import { type Producer, Partitioners } from 'kafkajs';
import type { Config } from './config/config';
import { FerryEvents } from './core/events';
import type { Mapping } from './mapping/define-mapping';
import { blockedPartitions, consumerProbes, startHttpServer } from './observability/http-server';
import type { Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { logPartitionHealth } from './observability/partition-log';
import { openAppliedLog } from './pipeline/applied-log';
import { BatchProcessor } from './pipeline/batch-processor';
import { DLQ_TOPIC_CONFIG, DeadLetterPublisher, deadLetterTopic } from './pipeline/dead-letters';
import { LostDeleteCheck } from './pipeline/lost-deletes';
import { SchemaWatch } from './pipeline/schema-watch';
import { createDynamoDbClient } from './sink/dynamodb/client';
import { DynamoDbWriter, writerOptions } from './sink/dynamodb/dynamodb-writer';
import { ensureDeletesTable } from './sink/dynamodb/deletes';
import { BatchRebuildWriter } from './sink/dynamodb/batch-writer';
import { WrittenKeys } from './sink/dynamodb/written-keys';
import { DynamoDbItemVersions } from './sink/dynamodb/item-versions';
import { DynamoDbSourceReads } from './sink/dynamodb/source-reads';
import { LeanDynamoDb } from './sink/dynamodb/lean-client';
import { ensureTable } from './sink/dynamodb/table-admin';
import { heartbeatTopic, topicFor } from './source/debezium/connector-config';
import { CaptureWatch } from './source/debezium/capture-watch';
import { createDecoder } from './source/debezium/create-decoder';
import { ChangeConsumer } from './source/kafka/change-consumer';
import { waitForChangeTopic } from './source/kafka/change-topic';
import { recordAudit } from './source/kafka/audit';
import { createKafka } from './source/kafka/kafka-client';
import { ensureLogTopic } from './source/kafka/log-topic';
import { ensureSchemaTopic, lastSchema, recordSchema } from './source/kafka/schema-log';
import { connectSource } from './source/mysql/connection';
import { requestSnapshot, signalTableProblem } from './source/mysql/snapshot-signal';

export const groupFor = (config: Config, mapping: Mapping) => config.kafka.groupId ?? `ferry.${mapping.name}`;

/** One mapping's worker: Kafka topic in, DynamoDB table out, dead letters aside. */
export class Worker {
  readonly events = new FerryEvents();
  private consumer?: ChangeConsumer;
  private producer?: Producer;
  private server?: Server;
  private writes?: LeanDynamoDb;
  private capture?: CaptureWatch;
  /** Aborted by stop(): a start still waiting for its topic ends there. */
  private readonly stopping = new AbortController();
  private closeMetrics?: () => void;
  private readonly probes = consumerProbes(this.events);
  private fail!: (err: Error) => void;
  /** Settles when the consumer has failed for good: stop the worker and exit non-zero, so it is restarted. */
  readonly failed = new Promise<Error>((resolve) => (this.fail = resolve));

  constructor(
    private readonly config: Config,
    private readonly mapping: Mapping,
    private readonly logger: Logger,
    /** Another consumer group than the mapping's, e.g. for a rebuild into a shadow table. */
    private readonly groupId = groupFor(config, mapping),
    /**
     * A rebuild writes a fresh shadow table nothing else writes: in batches (see
     * sink/dynamodb/batch-writer), and without watching the source schema, since its replay is
     * not the table's present. Into a table its rebuild has just created, it reads no versions
     * of keys it has not written.
     */
    private readonly purpose: 'deployed' | 'rebuild' | 'rebuild-new-table' = 'deployed',
  ) {}

  async start(): Promise<void> {
    const { config, logger, events, mapping, groupId } = this;
    const topic = topicFor(config.kafka.topicPrefix, mapping);
    const dlqTopic = deadLetterTopic(config.kafka.topicPrefix, mapping.name);

    const metrics = createMetrics(events, mapping.sourceTable, mapping);
    const stopLogging = logPartitionHealth(events, logger);
    this.closeMetrics = () => {
      metrics.close();
      stopLogging();
    };
    const blocked = blockedPartitions(events);
    this.server = await startHttpServer(config.http.host, config.http.port, metrics.registry, this.probes, () => ({
      mapping: mapping.name,
      group: groupId,
      topic,
      blocked: blocked(),
    }));

    const dynamo = createDynamoDbClient(config.dynamodb);
    // Writes and a rebuild's batches go through the lean client; the SDK does the rest (tables, single reads).
    const writes = new LeanDynamoDb(config.dynamodb);
    this.writes = writes;
    if (config.dynamodb.createTables) {
      const outcome = await ensureTable(dynamo, {
        table: mapping.targetTable,
        partitionKey: mapping.partitionKey,
        sortKey: mapping.sortKey,
      });
      logger.info({ table: mapping.targetTable, outcome }, 'target table ready');
    }
    await ensureDeletesTable(dynamo, config.dynamodb.deletesTable, config.dynamodb.createTables);

    const kafka = createKafka(config.kafka, logger);
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    const producer = this.producer;
    const admin = kafka.admin();
    await admin.connect();
    let applied: Awaited<ReturnType<typeof openAppliedLog>> = {};
    // One partition keeps letters in the order they failed; the limit fits any letter of a source
    // message; letters are kept FERRY_DLQ_RETENTION_HOURS.
    try {
      const dlq = await ensureLogTopic(admin, {
        topic: dlqTopic,
        numPartitions: DLQ_TOPIC_CONFIG.numPartitions,
        retentionHours: config.dlq.retentionHours,
        maxMessageBytes: DLQ_TOPIC_CONFIG.maxMessageBytes,
      });
      if (dlq.differs)
        logger.warn(
          { topic: dlqTopic, retention: dlq.retention, setting: `${config.dlq.retentionHours} h` },
          'the dead-letter topic keeps letters for another time than FERRY_DLQ_RETENTION_HOURS says; ferry leaves an existing topic as it is (change its retention.ms with kafka-configs if that is what you want)',
        );
      const topicReady = await waitForChangeTopic(
        admin,
        { topic, sourceTable: mapping.sourceTable, signal: this.stopping.signal },
        logger,
      );
      if (!topicReady) return;
      if (this.purpose === 'deployed') {
        await ensureSchemaTopic(admin, config.kafka.topicPrefix);
        // The change feed describes the live table: a rebuild's shadow table is not in it.
        applied = await openAppliedLog(admin, producer, config, mapping, topic);
      }
    } finally {
      await admin.disconnect();
    }
    if (applied.retentionDiffers)
      logger.warn(
        { ...applied.retentionDiffers, setting: `${config.appliedLog.retentionHours} h` },
        'the applied-changes log keeps records for another time than FERRY_APPLIED_LOG_RETENTION_HOURS says; ferry leaves an existing topic as it is',
      );

    const decoder = createDecoder(config);
    // A rebuild is an operator's run, watched: it is held by what fails, whatever the retry limit.
    const retry = this.purpose === 'deployed' ? retryLimit(config, mapping) : {};
    const conditional = new DynamoDbWriter(writes, { ...writerOptions(config.dynamodb), retry }, events);
    const schemas =
      this.purpose === 'deployed'
        ? new SchemaWatch({
            mapping,
            store: {
              last: () => lastSchema(kafka, config.kafka.topicPrefix, mapping.name),
              record: (record) => recordSchema(producer, config.kafka.topicPrefix, record),
            },
            audit: (detail) =>
              recordAudit(kafka, config.kafka.topicPrefix, {
                action: 'source-schema-change',
                group: groupId,
                topic,
                detail,
              }),
            requestSnapshot: async () => {
              const source = await connectSource(config.source.url);
              try {
                return await requestSnapshot(source, config.source.signalTable, mapping.sourceTable);
              } finally {
                await source.end();
              }
            },
            events,
          })
        : undefined;
    await schemas?.load();
    if (schemas && mapping.onSchemaChange === 'snapshot') {
      const problem = await signalTableProblem(config.source.url, config.source.signalTable, mapping.sourceTable);
      // Not fatal: it is needed only at a schema change, and holds that change's partition until it works.
      if (problem)
        logger.warn(
          { mapping: mapping.name, signalTable: config.source.signalTable },
          `onSchemaChange is 'snapshot', but the worker cannot reach Debezium's signalling table now: ${problem}. A schema change will hold its partition until it can (FERRY_SOURCE_URL, FERRY_SOURCE_SIGNAL_TABLE)`,
        );
    }
    const processor = new BatchProcessor({
      mapping,
      itemRules: config.pipeline,
      decoder,
      sink:
        this.purpose === 'deployed'
          ? conditional
          : new BatchRebuildWriter(
              writes,
              writerOptions(config.dynamodb),
              conditional,
              events,
              this.purpose === 'rebuild-new-table' ? new WrittenKeys() : undefined,
            ),
      deadLetters: new DeadLetterPublisher(this.producer, dlqTopic, mapping.name, events),
      lostDeletes: new LostDeleteCheck({ mapping, decoder, items: new DynamoDbItemVersions(dynamo), events }),
      schemas,
      appliedLog: applied.log,
      sourceReads: new DynamoDbSourceReads(dynamo, config.dynamodb.deletesTable),
      events,
    });
    this.consumer = new ChangeConsumer(
      kafka,
      processor,
      {
        groupId,
        topic,
        fromBeginning: config.kafka.fromBeginning,
        partitionsConsumedConcurrently: config.pipeline.partitionsConsumedConcurrently,
        maxChunk: config.pipeline.maxChunk,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      },
      logger,
      events,
    );
    void this.consumer.failed.then((err) => {
      this.probes.fail();
      this.fail(err);
    });
    await this.consumer.start();
    // A live table's worker watches that changes are still captured; a rebuild reads what is there.
    if (this.purpose === 'deployed') {
      this.capture = new CaptureWatch(
        () => kafka.admin(),
        { topic: heartbeatTopic(config.kafka.topicPrefix) },
        logger,
        events,
      );
      this.capture.start();
    }
    logger.info(
      {
        mapping: mapping.name,
        topic,
        groupId,
        table: mapping.targetTable,
        dlqTopic,
        appliedLogTopic: applied.log?.topic,
        http: `${config.http.host}:${config.http.port}`,
      },
      'worker started',
    );
  }

  /** Stops consuming (in-flight work is finished or abandoned, written work committed), then closes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.capture?.close();
    await this.consumer?.stop();
    await this.producer?.disconnect();
    this.writes?.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.closeMetrics?.();
    this.logger.info('worker stopped');
  }
}

/** The deployment's retry limit, else the mapping's; unset, a write is retried until it succeeds. */
export const retryLimit = (config: Config, mapping: Mapping) => ({
  maxAttempts: config.retry.maxAttempts ?? mapping.retry.maxAttempts ?? Infinity,
  maxDurationMs: config.retry.maxDurationMs ?? mapping.retry.maxDurationMs ?? Infinity,
});
