/** A row as the mapping sees it: column name -> decoded value (see source/debezium/logical-types). */
export type Row = Record<string, unknown>;

export type Operation = 'create' | 'update' | 'delete' | 'snapshot' | 'truncate';

/** Where in the source's history a change happened; orders changes to the same key. */
export interface SourcePosition {
  /** Sortable text form: equal for the same change, greater for a later one. Stored on every item. */
  readonly version: string;
  /** A snapshot read: of the connector's first (initial) snapshot, or of one asked for later (incremental). */
  readonly snapshot: false | 'initial' | 'incremental';
  /** Source commit time, epoch milliseconds. */
  readonly committedAtMs: number;
  /** The transaction's global id, when the source runs with GTIDs (a snapshot read has none). */
  readonly transaction?: SourceTransaction;
}

/**
 * A GTID read: each origin numbers its transactions in commit order, on every server that
 * replicates them. The origin is a MySQL server's UUID (with its tag, if any), or a MariaDB
 * replication domain, whose numbering a promoted server carries on.
 */
export interface SourceTransaction {
  /** The GTID as the connector wrote it. */
  readonly id: string;
  readonly origin: string;
  readonly sequence: bigint;
  /** MySQL 8 stamps a GTID transaction with its commit time in microseconds; MariaDB's is a statement's start, in seconds. */
  readonly commitClock: 'commit' | 'statement';
}

/** Where a message came from in Kafka. */
export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** The one record type after decoding: nothing downstream parses a Debezium envelope again. */
export interface ChangeEvent {
  readonly op: Operation;
  /** `db.table` of the source row. */
  readonly table: string;
  readonly before: Row | null;
  readonly after: Row | null;
  readonly position: SourcePosition;
  readonly origin: KafkaOrigin;
}
