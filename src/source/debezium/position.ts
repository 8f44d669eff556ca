import type { SourcePosition } from '../../core/change-event';
import { DecodeError } from '../../core/errors';

/** The `source` block Debezium's MySQL and MariaDB connectors attach to every change. */
export interface BinlogSource {
  file?: string;
  pos?: number | bigint;
  row?: number | bigint;
  snapshot?: string | boolean;
  ts_ms?: number | bigint;
}

const pad = (value: number | bigint, width: number) => value.toString().padStart(width, '0');

/**
 * Orders changes by where they sit in the binlog: file sequence, then byte position of the
 * rows event, then the row inside it; at the same coordinates a snapshot read sorts before a
 * streamed change, because a snapshot carries the binlog position at which it started.
 * Positions are only comparable for one source server: after a failover to a server with
 * other binlog files, rebuild the target.
 */
export function positionOf(source: BinlogSource): SourcePosition {
  const fileSequence = source.file ? /\.(\d+)$/.exec(source.file)?.[1] : undefined;
  if (fileSequence === undefined || source.pos === undefined || source.pos === null) {
    throw new DecodeError(`source block has no binlog coordinates (file=${source.file}, pos=${source.pos})`);
  }
  const snapshot = source.snapshot !== undefined && source.snapshot !== false && source.snapshot !== 'false';
  const version = `${pad(BigInt(fileSequence), 10)}-${pad(source.pos, 20)}-${pad(source.row ?? 0, 10)}-${snapshot ? 0 : 1}`;
  return { version, snapshot, committedAtMs: Number(source.ts_ms ?? 0) };
}
