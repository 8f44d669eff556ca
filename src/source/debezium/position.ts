import type { SourcePosition, SourceTransaction } from '../../core/change-event';
import { DecodeError } from '../../core/errors';
import { type Phase, formatVersion } from '../../core/version';

/** The `source` block Debezium's MySQL and MariaDB connectors attach to every change. */
export interface BinlogSource {
  file?: string;
  pos?: number | bigint;
  row?: number | bigint;
  snapshot?: string | boolean;
  ts_ms?: number | bigint;
  gtid?: string | null;
}

const MYSQL_GTID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?::[a-z_][a-z0-9_]{0,31})?):(\d+)$/i;
const MARIADB_GTID = /^(\d+)-\d+-(\d+)$/;

/**
 * Reads `source.gtid`: `uuid:seq` or, tagged (MySQL 8.3+), `uuid:tag:seq` from the MySQL
 * connector; `domain-server-seq` from the MariaDB connector. Text in no known form reads as no
 * GTID: it only sharpens the failover check (pipeline/source-order), which falls back to time.
 */
export function transactionOf(gtid: string | null | undefined): SourceTransaction | undefined {
  if (!gtid) return undefined;
  const mysql = MYSQL_GTID.exec(gtid);
  if (mysql)
    return {
      id: gtid,
      origin: (mysql[1] as string).toLowerCase(),
      sequence: BigInt(mysql[2] as string),
      commitClock: 'commit',
    };
  const mariadb = MARIADB_GTID.exec(gtid);
  if (mariadb)
    return {
      id: gtid,
      origin: `domain ${mariadb[1]}`,
      sequence: BigInt(mariadb[2] as string),
      commitClock: 'statement',
    };
  return undefined;
}

export const phaseOf = (op: string, snapshot: boolean): Phase => (snapshot ? 0 : op === 'd' ? 1 : 2);

/** Debezium marks an incremental snapshot's reads `incremental`; the first snapshot's true, first, last... */
export function snapshotOf(marker: BinlogSource['snapshot']): SourcePosition['snapshot'] {
  if (marker === undefined || marker === null || marker === false || marker === 'false') return false;
  return marker === 'incremental' ? 'incremental' : 'initial';
}

/**
 * Orders changes by where they sit in the binlog: file sequence, then byte position of the
 * rows event, then the row inside it, then the phase. A snapshot read carries the binlog
 * position at which the snapshot started, so it sorts before anything streamed there. A
 * primary-key change is one binlog row that Debezium emits as a delete of the old key and a
 * create of the new one, on different partitions: the create must win wherever they touch the
 * same item, so deletes sort before creates at the same row.
 * Positions are only comparable for one source server: a failover to a server with other
 * binlog files is caught by pipeline/source-order (and, across restarts, by the writer).
 */
export function positionOf(source: BinlogSource, op: string): SourcePosition {
  const fileSequence = source.file ? /\.(\d+)$/.exec(source.file)?.[1] : undefined;
  if (fileSequence === undefined || source.pos === undefined || source.pos === null) {
    throw new DecodeError(`source block has no binlog coordinates (file=${source.file}, pos=${source.pos})`);
  }
  const snapshot = snapshotOf(source.snapshot);
  const committedAtMs = Number(source.ts_ms ?? 0);
  const version = formatVersion(
    BigInt(fileSequence),
    source.pos,
    source.row ?? 0,
    phaseOf(op, snapshot !== false),
    committedAtMs,
  );
  const transaction = transactionOf(source.gtid);
  return transaction ? { version, snapshot, committedAtMs, transaction } : { version, snapshot, committedAtMs };
}
