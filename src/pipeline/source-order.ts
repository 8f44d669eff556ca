import type { ChangeEvent, KafkaOrigin } from '../core/change-event';
import { UnorderedChangeError } from '../core/errors';
import { type ParsedVersion, REGRESSION_MARGIN_MS, parseVersion } from '../core/version';

/** How far a partition has read: the furthest binlog position, the latest commit, each GTID origin's last transaction. */
interface PartitionRead {
  offset: bigint;
  /** The version of the furthest position. */
  version: string;
  latestCommitMs: number;
  sequences: Map<string, bigint>;
  /** When it was last kept (SourceReads.save), epoch ms, and whether it moved since. */
  savedAtMs: number;
  moved: boolean;
}

/** A partition's read as it is kept: the offset checked last, the furthest version, the latest commit, each origin's last sequence. */
export interface SourceRead {
  offset: string;
  version: string;
  latestCommitMs: number;
  sequences: Record<string, string>;
}

/** Where reads are kept between processes (sink/dynamodb/source-reads). */
export interface SourceReads {
  load(topic: string, partition: number): Promise<SourceRead | undefined>;
  save(topic: string, partition: number, read: SourceRead): Promise<void>;
}

/** A read is kept at most this often per partition: one that lags a little still places a failover. */
const SAVE_EVERY_MS = 5_000;

// MySQL stamps a GTID transaction with its commit time in microseconds, on the server it began
// on: two servers' clocks agree far better than a failover takes. MariaDB's time is a statement's
// start, in seconds, so a long transaction can sit later in the binlog with an earlier time.
const MARGIN_MS = { commit: 1_000, statement: REGRESSION_MARGIN_MS };

/**
 * A partition's changes arrive in binlog order, so a streamed change at an earlier binlog
 * position than one already read is either the connector sending again what it sent before a
 * restart, or a new change from another server's binlog: a failover (or `RESET MASTER`), after
 * which binlog positions, and so `_ferry_version`, no longer compare, and the new change would be
 * dropped as stale. A GTID tells them apart exactly: an origin's transactions are numbered in
 * commit order, so a transaction numbered past its origin's last one read is new. Without one
 * (a source without GTIDs, an origin this process has not read), a change committed later than
 * any read by more than the clock's margin is taken as new. A new change there is
 * refused, holding the partition: nothing after it is written until the target is rebuilt from a
 * new snapshot. Snapshot reads are placed by design (see source/debezium/position) and are not
 * checked; a message read again (a batch retried, a partition reassigned) is not checked twice.
 * A process starting on a partition begins from the read kept last (SourceReads), at most a few
 * seconds behind, so a failover between a restart's two sides is caught too; the writer checks
 * each item's stored version as well (sink/dynamodb/dynamodb-writer, staleOrRefused).
 */
export class SourceOrderGuard {
  private readonly partitions = new Map<string, PartitionRead>();
  /** Partitions whose kept read this process has asked for: once each. */
  private readonly seeded = new Set<string>();

  constructor(private readonly reads?: SourceReads) {}

  /** Before a partition's first batch in this process: begins from the read kept last. */
  async seed(topic: string, partition: number): Promise<void> {
    const id = `${topic}[${partition}]`;
    if (this.reads === undefined || this.seeded.has(id)) return;
    const kept = await this.reads.load(topic, partition);
    this.seeded.add(id);
    if (!kept || !parseVersion(kept.version) || this.partitions.has(id)) return;
    this.partitions.set(id, {
      offset: BigInt(kept.offset),
      version: kept.version,
      latestCommitMs: kept.latestCommitMs,
      sequences: new Map(Object.entries(kept.sequences).map(([origin, seq]) => [origin, BigInt(seq)])),
      savedAtMs: Date.now(),
      moved: false,
    });
  }

  /** After a batch is durable: keeps the partition's read, when it has moved and is due. */
  async save(topic: string, partition: number, nowMs = Date.now()): Promise<void> {
    const read = this.partitions.get(`${topic}[${partition}]`);
    if (this.reads === undefined || !read?.moved || nowMs - read.savedAtMs < SAVE_EVERY_MS) return;
    await this.reads.save(topic, partition, {
      offset: read.offset.toString(),
      version: read.version,
      latestCommitMs: read.latestCommitMs,
      sequences: Object.fromEntries([...read.sequences].map(([origin, seq]) => [origin, seq.toString()])),
    });
    read.savedAtMs = nowMs;
    read.moved = false;
  }

  /** Throws UnorderedChangeError for a new change sitting earlier in the binlog than one already read. */
  check(event: ChangeEvent, origin: KafkaOrigin): void {
    if (event.position.snapshot !== false) return;
    const parsed = parseVersion(event.position.version);
    if (parsed === undefined) return;
    const id = `${origin.topic}[${origin.partition}]`;
    const offset = BigInt(origin.offset);
    const read = this.partitions.get(id);
    const { transaction, committedAtMs, version } = event.position;
    if (read === undefined) {
      this.partitions.set(id, {
        offset,
        version,
        latestCommitMs: committedAtMs,
        sequences: transaction ? new Map([[transaction.origin, transaction.sequence]]) : new Map(),
        savedAtMs: 0,
        moved: true,
      });
      return;
    }
    if (offset <= read.offset) return;
    const last = transaction && read.sequences.get(transaction.origin);
    // read.version is one of this format: checked as it came in.
    if (parsed.position < (parseVersion(read.version) as ParsedVersion).position) {
      const isNew =
        transaction !== undefined && last !== undefined
          ? transaction.sequence > last
          : committedAtMs > read.latestCommitMs + MARGIN_MS[transaction?.commitClock ?? 'statement'];
      if (isNew)
        throw new UnorderedChangeError(
          `source failed over: ${id}@${origin.offset} is a new change${transaction ? ` (transaction ${transaction.id})` : ''} committed at ${new Date(committedAtMs).toISOString()}, at ${version}, earlier in the binlog than ${read.version} already read; binlog positions of two servers (or of a reset binlog) do not compare, so nothing after it is written. Take a new snapshot into a new topic prefix and rebuild from it (README, Runbook: "A partition blocked on source position went back")`,
        );
    } else read.version = version;
    read.offset = offset;
    read.moved = true;
    read.latestCommitMs = Math.max(read.latestCommitMs, committedAtMs);
    if (transaction && (last === undefined || transaction.sequence > last))
      read.sequences.set(transaction.origin, transaction.sequence);
  }
}
