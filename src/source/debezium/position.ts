import type { SourcePosition } from '../../core/change-event';
import { DecodeError } from '../../core/errors';
import { type Phase, formatVersion } from '../../core/version';

/** The `source` block Debezium's MySQL and MariaDB connectors attach to every change. */
export interface BinlogSource {
  file?: string;
  pos?: number | bigint;
  row?: number | bigint;
  snapshot?: string | boolean;
  ts_ms?: number | bigint;
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
 * Positions are only comparable for one source server: after a failover to a server with
 * other binlog files, rebuild the target.
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
  return { version, snapshot, committedAtMs };
}
