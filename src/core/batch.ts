import type { SinkWriteError } from './errors';
import type { WriteIntent } from './write-intent';

/**
 * The contracts between the rooms: what a source hands the pipeline (messages of one partition,
 * in offset order) and what the pipeline hands a sink (coalesced write intents).
 */

/** A Kafka message as the pipeline needs it. */
export interface SourceMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp?: string;
}

/** Messages of one partition, in offset order. */
export interface SourceBatch {
  topic: string;
  partition: number;
  /** Offset of the next message Kafka will append; with the last offset it gives the lag. */
  highWatermark: string;
  messages: SourceMessage[];
}

/** Where write intents go: DynamoDB, or memory in tests and benchmarks. */
export interface Sink {
  write(intents: WriteIntent[], control?: WriteControl): Promise<WriteResult>;
}

export interface WriteResult {
  /** Items put or deleted. */
  written: WriteIntent[];
  /** Skipped because the item already holds state from a newer source position. */
  stale: WriteIntent[];
  /** Rejected for good (e.g. an invalid item): these go to the dead letters. */
  failed: Array<{ intent: WriteIntent; error: SinkWriteError }>;
}

/** How the caller follows and stops a write that keeps failing. */
export interface WriteControl {
  /** Asked before and after each backoff; true abandons the write. */
  shouldStop?: () => boolean | Promise<boolean>;
  /** Ends a backoff at once and abandons the write: a stop, or a revoked partition. */
  signal?: AbortSignal;
  /** A retriable failure, with an intent it failed on: the partition is blocked until it clears. */
  onRetry?: (error: unknown, intent: WriteIntent) => void;
}

/** What processes one partition's messages: resolves once each is durable in the sink or the dead letters. */
export interface BatchHandler {
  process(batch: SourceBatch, shouldStop?: () => boolean | Promise<boolean>, signal?: AbortSignal): Promise<void>;
}
