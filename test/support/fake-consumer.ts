/**
 * A narrow fake of the kafkajs consumer surface ChangeConsumer uses (on, events, connect,
 * subscribe, run, disconnect, and the eachBatch payload), so consumer behaviour is tested in
 * seconds without Kafka: tests hand it batches, fail its heartbeats, change its assignment,
 * make it crash and stop it.
 */
import { EventEmitter } from 'node:events';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
} from 'kafkajs';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
} as const;

/** What became of one delivered batch. */
export interface Delivery {
  /** Offsets passed to resolveOffset, in order. */
  resolved: string[];
  commits: number;
  heartbeats: number;
}

export class FakeConsumer {
  readonly events = EVENTS;
  readonly emitter = new EventEmitter();
  running = false;
  disconnected = false;
  config?: ConsumerRunConfig;
  readonly seeks: Array<{ partition: number; offset: string }> = [];
  readonly commits: Array<{ partition: number; offset: string }> = [];
  /** When set, every heartbeat fails with it (a rebalance under way, an evicted member). */
  heartbeatError?: Error;

  constructor(
    readonly settings: ConsumerConfig,
    private readonly topic: string,
  ) {}

  on(event: string, listener: (e: { payload: unknown }) => void) {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  async connect() {}
  async subscribe() {}
  async run(config: ConsumerRunConfig) {
    this.config = config;
    this.running = true;
  }
  async disconnect() {
    this.running = false;
    this.disconnected = true;
  }
  seek({ partition, offset }: { partition: number; offset: string }) {
    this.seeks.push({ partition, offset });
  }
  /** Partitions paused by the consumer's user, as kafkajs keeps them. */
  readonly paused = new Set<number>();
  pause(topics: Array<{ partitions: number[] }>) {
    for (const { partitions } of topics) partitions.forEach((p) => this.paused.add(p));
  }
  resume(topics: Array<{ partitions: number[] }>) {
    for (const { partitions } of topics) partitions.forEach((p) => this.paused.delete(p));
  }
  async commitOffsets(offsets: Array<{ partition: number; offset: string }>) {
    this.commits.push(...offsets.map(({ partition, offset }) => ({ partition, offset })));
  }

  /** The group gave this member these partitions of the topic. */
  join(partitions: number[]) {
    this.emitter.emit(EVENTS.GROUP_JOIN, {
      type: EVENTS.GROUP_JOIN,
      payload: { memberId: 'm-1', memberAssignment: { [this.topic]: partitions } },
    });
  }

  rebalancing() {
    this.emitter.emit(EVENTS.REBALANCING, { type: EVENTS.REBALANCING, payload: { memberId: 'm-1' } });
  }

  /** kafkajs crashed; with restart false it has given up and disconnected. */
  crash(error: Error, restart: boolean) {
    if (!restart) this.running = false;
    this.emitter.emit(EVENTS.CRASH, { type: EVENTS.CRASH, payload: { error, restart } });
  }

  /** Runs eachBatch on messages of one partition, as kafkajs would; resolves when it returns. */
  async deliver(
    partition: number,
    messages: Array<Pick<KafkaMessage, 'key' | 'value' | 'offset'> & { timestamp?: string }>,
  ): Promise<Delivery> {
    const eachBatch = this.config?.eachBatch;
    if (!eachBatch) throw new Error('deliver before run()');
    const delivery: Delivery = { resolved: [], commits: 0, heartbeats: 0 };
    const payload = {
      batch: {
        topic: this.topic,
        partition,
        highWatermark: String(Number(messages.at(-1)?.offset ?? -1) + 1),
        messages: messages.map((m) => ({ timestamp: '0', ...m, attributes: 0, headers: {} })),
        lastOffset: () => messages.at(-1)?.offset ?? '-1',
      },
      resolveOffset: (offset: string) => void delivery.resolved.push(offset),
      heartbeat: async () => {
        delivery.heartbeats++;
        if (this.heartbeatError) throw this.heartbeatError;
      },
      commitOffsetsIfNecessary: async () => void delivery.commits++,
      isRunning: () => this.running,
      isStale: () => false,
      pause: () => () => undefined,
      uncommittedOffsets: () => ({ topics: [] }),
    } as unknown as EachBatchPayload;
    await eachBatch(payload);
    return delivery;
  }
}

/**
 * A Kafka whose consumer() is a FakeConsumer on `topic`, and whose admin() knows the topic's
 * offsets (`low`..`high` per partition) and no group's.
 */
export function fakeKafka(
  topic: string,
  offsets: Array<{ partition: number; low: string; high: string }> = [],
  adminOverrides: Partial<Admin> = {},
): { kafka: Pick<Kafka, 'consumer' | 'admin'>; consumer: () => FakeConsumer } {
  let made: FakeConsumer | undefined;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () => offsets.map((o) => ({ ...o, offset: o.high })),
    fetchOffsets: async () => [{ topic, partitions: [] }],
    deleteGroups: async () => [],
    ...adminOverrides,
  };
  return {
    kafka: {
      consumer: (settings: ConsumerConfig) => (made = new FakeConsumer(settings, topic)) as unknown as Consumer,
      admin: () => admin as unknown as Admin,
    },
    consumer: () => {
      if (!made) throw new Error('no consumer made yet');
      return made;
    },
  };
}
