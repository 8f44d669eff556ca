import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { FerryEvents } from '../../core/events';
import { RetryAbortedError } from '../../core/retry';
import type { Logger } from '../../observability/logger';
import type { BatchProcessor } from '../../pipeline/batch-processor';

/** What a fetch budgets per message: a Debezium JSON change with its schema is 2-5 KB. */
const FETCH_BYTES_PER_MESSAGE = 4096;

export interface ChangeConsumerOptions {
  groupId: string;
  topic: string;
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  /** Messages handed to the pipeline at once; offsets are committed after each chunk. */
  maxChunk: number;
  sessionTimeoutMs: number;
}

/**
 * The kafkajs consumer lifecycle: eachBatch, partitions in parallel, offsets resolved only after
 * the pipeline says a chunk is durable. A batch whose partition was revoked (stale) or whose
 * consumer is stopping is abandoned unresolved: the next owner reads it again.
 */
export class ChangeConsumer {
  private readonly consumer: Consumer;
  private readonly heartbeatIntervalMs: number;
  /** Aborted by stop(): a backoff in progress ends at once, so the clean stop fits its deadline. */
  private readonly stopping = new AbortController();

  constructor(
    kafka: Kafka,
    private readonly processor: BatchProcessor,
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
      // kafkajs fetches 1 MB a partition by default: ~250 Debezium JSON messages with their schemas,
      // so a chunk never reached maxChunk and little was coalesced. Let one fetch bring a chunk.
      maxBytesPerPartition: Math.max(1 << 20, options.maxChunk * FETCH_BYTES_PER_MESSAGE),
      maxBytes: Math.max(10 << 20, options.partitionsConsumedConcurrently * options.maxChunk * FETCH_BYTES_PER_MESSAGE),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.logger.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined consumer group');
      this.events?.emit('consumer.state', { state: 'joined' });
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      this.events?.emit('consumer.state', { state: 'crashed', detail: String(payload.error) });
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
    await this.consumer.disconnect();
    this.events?.emit('consumer.state', { state: 'stopped' });
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    // A failed heartbeat means a rebalance is under way: this partition may no longer be ours.
    let lost = false;
    const revoked = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, revoked.signal]);
    const beat = async () => {
      try {
        await heartbeat();
      } catch {
        lost = true;
        revoked.abort();
      }
    };
    const abandoned = () => lost || !isRunning() || isStale();
    const shouldStop = async () => {
      await beat();
      return abandoned();
    };
    for (let start = 0; start < batch.messages.length; start += this.options.maxChunk) {
      if (abandoned()) return;
      const messages = batch.messages.slice(start, start + this.options.maxChunk);
      const range = {
        topic: batch.topic,
        partition: batch.partition,
        first: messages[0]?.offset,
        last: messages.at(-1)?.offset,
      };
      this.logger.debug(range, 'chunk received');
      // Heartbeats go on while a chunk is written: a slow chunk must not cost the group membership.
      const beating = setInterval(() => void beat(), this.heartbeatIntervalMs);
      try {
        await this.processor.process(
          { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, messages },
          shouldStop,
          signal,
        );
      } catch (err) {
        if (err instanceof RetryAbortedError) return;
        throw err;
      } finally {
        clearInterval(beating);
      }
      if (lost || isStale()) return; // revoked: the new owner replays it; a stopping consumer still commits what is written
      const last = (messages.at(-1) as { offset: string }).offset;
      resolveOffset(last);
      await commitOffsetsIfNecessary();
      await beat();
    }
  }
}
