/** Runs ferry's real consumer path (ChangeConsumer + BatchProcessor) over one topic until it has drained. */
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { type Config, configSchema } from '../../src/config/config';
import type { KafkaOrigin } from '../../src/core/change-event';
import { FerryEvents } from '../../src/core/events';
import type { Mapping } from '../../src/mapping/define-mapping';
import { loadMapping } from '../../src/mapping/load-mapping';
import type { Sink } from '../../src/core/batch';
import { BatchProcessor, type BatchProcessorDeps } from '../../src/pipeline/batch-processor';
import type { Decoded, EnvelopeDecoder } from '../../src/source/debezium/envelope';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import { ChangeConsumer } from '../../src/source/kafka/change-consumer';
import { createKafka } from '../../src/source/kafka/kafka-client';

export const MAPPING_PATH = 'mappings/customers.ts';
export const DYNAMODB_ENDPOINT = 'http://127.0.0.1:8000';
export const BROKERS = ['127.0.0.1:9092'];
export const REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7';

/** The worker's defaults (concurrency, chunk size, ...), pointed at the local stack. */
export function benchConfig(): Config {
  return configSchema.parse({
    mapping: MAPPING_PATH,
    kafka: { brokers: BROKERS, clientId: 'ferry-bench' },
    dynamodb: { endpoint: DYNAMODB_ENDPOINT, createTables: true },
    schemaRegistry: { url: REGISTRY_URL },
  });
}

/** kafkajs warnings and errors go to stderr, so that stdout stays the bench's. */
export const benchLogger = () => pino({ level: 'warn', base: { service: 'ferry-bench' } }, pino.destination(2));

export const benchKafka = (config: Config) => createKafka(config.kafka, benchLogger());

/** The customers mapping, writing to another table. */
export async function benchMapping(table: string): Promise<Mapping> {
  return { ...(await loadMapping(MAPPING_PATH)), targetTable: table };
}

export interface Drained {
  seconds: number;
  cpuSeconds: number;
  /** Pipeline passes (batch.done events) and the writes handed to the sink after coalescing. */
  chunks: number;
  writes: number;
}

export interface FerryRun {
  /** Messages the pipeline has finished (written, stale, skipped...). */
  readonly processed: () => number;
  /** Resolves once `expected` messages are processed: seconds and CPU seconds since the group was joined. */
  readonly drained: (expected: number) => Promise<Drained>;
  /** Resolves when the consumer has joined its group. */
  readonly joined: Promise<void>;
  readonly events: FerryEvents;
  readonly stop: () => Promise<void>;
}

/** Hands each decoded change's source commit time to `onChange`. */
class ObservedDecoder implements EnvelopeDecoder {
  constructor(
    private readonly inner: EnvelopeDecoder,
    private readonly onChange: (origin: KafkaOrigin, committedAtMs: number) => void,
  ) {}

  decode(value: Buffer | null, origin: KafkaOrigin): Decoded | Promise<Decoded> {
    const seen = (decoded: Decoded) => {
      if (decoded.kind === 'change') this.onChange(origin, decoded.event.position.committedAtMs);
      return decoded;
    };
    const decoded = this.inner.decode(value, origin);
    return decoded instanceof Promise ? decoded.then(seen) : seen(decoded);
  }

  keyShape(key: Buffer | null, origin: KafkaOrigin): string | null | Promise<string | null> {
    return this.inner.keyShape(key, origin);
  }
}

export interface FerryRunOptions {
  kafka: Kafka;
  config: Config;
  topic: string;
  groupId: string;
  mapping: Mapping;
  sink: Sink;
  events?: FerryEvents;
  /** JSON unless given. */
  decoder?: EnvelopeDecoder;
  /** Called with every decoded change (for freshness); costs one extra call a message. */
  onChange?: (origin: KafkaOrigin, committedAtMs: number) => void;
  /** The applied-changes log, as a worker with FERRY_APPLIED_LOG_ENABLED has it. */
  appliedLog?: BatchProcessorDeps['appliedLog'];
}

/** Starts ChangeConsumer + BatchProcessor + a decoder exactly as the worker wires them. */
export async function startFerry(options: FerryRunOptions): Promise<FerryRun> {
  const { kafka, config, topic, groupId, mapping, sink } = options;
  const events = options.events ?? new FerryEvents();
  const inner = options.decoder ?? new JsonEnvelopeDecoder();
  const decoder = options.onChange ? new ObservedDecoder(inner, options.onChange) : inner;
  let deadLetters = 0;
  let firstLetter = '';
  let writes = 0;
  const processor = new BatchProcessor({
    mapping,
    itemRules: config.pipeline,
    decoder,
    sink: {
      write: (intents, control) => {
        writes += intents.length;
        return sink.write(intents, control);
      },
    },
    // Nothing in this workload is poison: a dead letter is a bench bug, reported when the run ends.
    deadLetters: {
      publish: async (letters) => {
        deadLetters += letters.length;
        if (letters.length > 0 && !firstLetter) firstLetter = String(letters[0]?.error);
      },
    },
    appliedLog: options.appliedLog,
    events,
  });
  const consumer = new ChangeConsumer(
    kafka,
    processor,
    {
      groupId,
      topic,
      fromBeginning: true,
      partitionsConsumedConcurrently: config.pipeline.partitionsConsumedConcurrently,
      maxChunk: config.pipeline.maxChunk,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    },
    benchLogger(),
    events,
  );

  let processed = 0;
  let chunks = 0;
  let joinedAt = 0;
  let cpuAtJoin = process.cpuUsage();
  const waiters: Array<{ expected: number; resolve: () => void }> = [];
  const joined = new Promise<void>((resolve) =>
    events.on('consumer.state', ({ state }) => {
      if (state === 'joined' && joinedAt === 0) {
        joinedAt = performance.now();
        cpuAtJoin = process.cpuUsage();
        resolve();
      }
    }),
  );
  events.on('batch.done', (batch) => {
    processed += batch.messages;
    chunks++;
    for (const waiter of waiters) if (processed >= waiter.expected) waiter.resolve();
  });

  await consumer.start();
  return {
    processed: () => processed,
    joined,
    events,
    drained: async (expected) => {
      await joined;
      if (processed < expected) await new Promise<void>((resolve) => waiters.push({ expected, resolve }));
      const seconds = (performance.now() - joinedAt) / 1000;
      const cpu = process.cpuUsage(cpuAtJoin);
      if (deadLetters > 0) throw new Error(`${deadLetters} dead letters, the first: ${firstLetter}`);
      return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, chunks, writes };
    },
    stop: () => consumer.stop(),
  };
}
