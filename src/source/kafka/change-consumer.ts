import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { FerryEvents } from '../../core/events';
import { FerryError, describe } from '../../core/errors';
import { RetryAbortedError } from '../../core/retry';
import type { Logger } from '../../observability/logger';
import type { BatchHandler } from '../../core/batch';
import { PartitionGrowthGuard } from './partition-growth';

/** What a fetch budgets per message: a Debezium JSON change with its schema is 2-5 KB. */
const FETCH_BYTES_PER_MESSAGE = 4096;

/**
 * How old the consumer's cluster metadata may get. kafkajs learns that the topic has new
 * partitions only from a metadata refresh: before each fetch, ConsumerGroup.fetch() calls
 * cluster.refreshMetadataIfNecessary(), which refreshes once metadataMaxAge has passed (kafkajs
 * default 300,000 ms), then checkForStaleAssignment() compares the topic's partitions with those
 * known at the last sync and throws KafkaJSStaleTopicMetadataAssignment; recoverFromFetch() then
 * rejoins the group (joinAndSync), the leader refreshes metadata and assigns every partition, and
 * the other members follow through the rebalance their heartbeats report. So a live group takes
 * up to metadataMaxAge plus one fetch wait (maxWaitTimeInMs, 5 s) to consume a new partition: five
 * minutes by default. 30 s bounds that; it costs one Metadata request per 30 s.
 */
export const METADATA_MAX_AGE_MS = 30_000;

export interface ChangeConsumerOptions {
  groupId: string;
  topic: string;
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  /** Messages handed to the pipeline at once; offsets are committed after each chunk. */
  maxChunk: number;
  sessionTimeoutMs: number;
  /** How often a held new partition asks whether the old ones have passed the growth (PartitionGrowthGuard). */
  holdPollMs?: number;
}

/** The consumer crashed and kafkajs will not restart it: only a new process consumes again. */
export class ConsumerFailedError extends FerryError {}

/** A batch being processed, and how to take it back when its partition is no longer ours. */
interface InFlight {
  partition: number;
  revoke: (reason: string) => void;
}

/**
 * The kafkajs consumer lifecycle: eachBatch, partitions in parallel, offsets resolved only after
 * the pipeline says a chunk is durable. A batch whose partition was revoked (a failed heartbeat,
 * a rebalance, a new assignment without it) or whose consumer is stopping is abandoned
 * unresolved: the next owner reads it again.
 */
export class ChangeConsumer {
  private readonly consumer: Consumer;
  private readonly heartbeatIntervalMs: number;
  /** Aborted by stop(): a backoff in progress ends at once, so the clean stop fits its deadline. */
  private readonly stopping = new AbortController();
  /** Partitions of the topic the newest group join gave this member; undefined before the first. */
  private assignment?: ReadonlySet<number>;
  private readonly inFlight = new Set<InFlight>();
  private readonly growth: PartitionGrowthGuard;
  private fail!: (err: ConsumerFailedError) => void;
  /** Settles when the consumer crashed and kafkajs will not restart it; never settles otherwise. */
  readonly failed = new Promise<ConsumerFailedError>((resolve) => (this.fail = resolve));

  constructor(
    kafka: Pick<Kafka, 'consumer' | 'admin'>,
    private readonly processor: BatchHandler,
    private readonly options: ChangeConsumerOptions,
    private readonly logger: Logger,
    private readonly events?: FerryEvents,
  ) {
    this.heartbeatIntervalMs = Math.max(1000, Math.floor(options.sessionTimeoutMs / 10));
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatIntervalMs,
      retry: { retries: 10 },
      metadataMaxAge: METADATA_MAX_AGE_MS,
      // kafkajs fetches 1 MB a partition by default: ~250 Debezium JSON messages with their schemas,
      // so a chunk never reached maxChunk and little was coalesced. Let one fetch bring a chunk.
      maxBytesPerPartition: Math.max(1 << 20, options.maxChunk * FETCH_BYTES_PER_MESSAGE),
      maxBytes: Math.max(10 << 20, options.partitionsConsumedConcurrently * options.maxChunk * FETCH_BYTES_PER_MESSAGE),
    });
    this.growth = new PartitionGrowthGuard(() => kafka.admin(), options, logger, events);
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.logger.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined consumer group');
      this.growth.newAssignment();
      this.assign(payload.memberAssignment[options.topic] ?? []);
      this.events?.emit('consumer.state', { state: 'joined' });
    });
    // kafkajs rebalances eagerly: every partition is given up until the next join hands some back.
    this.consumer.on(REBALANCING, () => this.assign([]));
    this.consumer.on(CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      this.assign([]);
      this.events?.emit('consumer.state', { state: 'crashed', detail: String(payload.error) });
      if (!payload.restart && !this.stopping.signal.aborted) {
        this.fail(
          new ConsumerFailedError(
            `the consumer of ${options.topic} (group ${options.groupId}) crashed and will not restart: ${describe(payload.error)}`,
            { cause: payload.error },
          ),
        );
      }
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    this.events?.emit('consumer.state', { state: 'connected' });
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: this.options.fromBeginning });
    await this.consumer.run({
      autoCommit: true,
      // kafkajs commits resolved offsets after every batch; this also commits inside long ones.
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes or abandons in-flight batches, commits what is written and leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.growth.close();
    await this.consumer.disconnect();
    this.events?.emit('consumer.state', { state: 'stopped' });
  }

  /** Records the newest assignment; in-flight batches of partitions outside it are revoked. */
  private assign(partitions: number[]): void {
    this.assignment = new Set(partitions);
    for (const batch of this.inFlight)
      if (!this.assignment.has(batch.partition)) batch.revoke('the partition is no longer assigned to this member');
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    // A partition new to the group may have to wait for the old ones (see PartitionGrowthGuard).
    const first = batch.messages[0];
    if (first) {
      const admission = await this.growth.admit(partition, first);
      if (admission.kind === 'seek') return this.consumer.seek({ topic, partition, offset: admission.offset });
      if (admission.kind === 'hold') {
        // Paused, not awaited: a held partition must not take a slot the old partitions need.
        this.consumer.pause([{ topic, partitions: [partition] }]);
        void admission.released.then(() => {
          if (!this.stopping.signal.aborted) this.consumer.resume([{ topic, partitions: [partition] }]);
        });
        return;
      }
    }
    const revoked = new AbortController();
    const self: InFlight = {
      partition,
      revoke: (reason) => {
        if (revoked.signal.aborted) return;
        this.logger.warn({ topic, partition, reason }, 'partition revoked: its batch is abandoned uncommitted');
        revoked.abort();
      },
    };
    this.inFlight.add(self);
    if (this.assignment && !this.assignment.has(partition)) self.revoke('the partition is not assigned to this member');
    const signal = AbortSignal.any([this.stopping.signal, revoked.signal]);
    // A failed heartbeat means a rebalance is under way or this member was evicted: the partition may be gone.
    const beat = async () => {
      try {
        await heartbeat();
      } catch (err) {
        self.revoke(`heartbeat failed: ${describe(err)}`);
      }
    };
    // isStale: a seek is pending for the partition, so the batch's position is superseded.
    const abandoned = () => revoked.signal.aborted || !isRunning() || isStale();
    const shouldStop = async () => {
      await beat();
      return abandoned();
    };
    try {
      for (let start = 0; start < batch.messages.length; start += this.options.maxChunk) {
        if (abandoned()) return;
        const messages = batch.messages.slice(start, start + this.options.maxChunk);
        this.logger.debug(
          { topic, partition, first: messages[0]?.offset, last: messages.at(-1)?.offset },
          'chunk received',
        );
        // Heartbeats go on while a chunk is written: a slow chunk must not cost the group membership.
        const beating = setInterval(() => void beat(), this.heartbeatIntervalMs);
        try {
          await this.processor.process(
            { topic, partition, highWatermark: batch.highWatermark, messages },
            shouldStop,
            signal,
          );
        } catch (err) {
          if (err instanceof RetryAbortedError) return;
          throw err;
        } finally {
          clearInterval(beating);
        }
        // Revoked: the new owner replays it. A stopping consumer still commits what is written.
        if (revoked.signal.aborted || isStale()) return;
        resolveOffset((messages.at(-1) as { offset: string }).offset);
        await commitOffsetsIfNecessary();
        await beat();
      }
    } finally {
      this.inFlight.delete(self);
    }
  }
}
