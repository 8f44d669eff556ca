import type { ChangeEvent, KafkaOrigin, Operation, Row } from '../../core/change-event';
import { DecodeError, describe } from '../../core/errors';
import { type BinlogSource, positionOf } from './position';
import type { RowSchema } from '../../core/row-schema';

/**
 * What decoding a Kafka message gives: a change, or a reason it carries no row. A change carries
 * its rows' schema when the message has one (Avro, JSON with schemas): one object per distinct
 * schema, so that comparing it costs nothing until it changes.
 */
export type Decoded =
  | { kind: 'change'; event: ChangeEvent; schema?: RowSchema }
  | { kind: 'skip'; reason: 'tombstone' | 'heartbeat' | 'schema-change' | 'other-table' };

/** The payload of a Debezium change event, after row values have been decoded. */
export interface EnvelopePayload {
  op?: string;
  before?: Row | null;
  after?: Row | null;
  source?: BinlogSource & { db?: string; table?: string };
  ddl?: string;
}

const operations: Record<string, Operation> = {
  c: 'create',
  u: 'update',
  d: 'delete',
  r: 'snapshot',
  t: 'truncate',
};

const HEARTBEAT_FIELDS = new Set(['ts_ms', 'ts_us', 'ts_ns']);

/** A Debezium heartbeat carries only its time: `{ "ts_ms": … }`. Anything else without "op" is not ours to skip. */
function isHeartbeat(payload: EnvelopePayload): boolean {
  const present = Object.entries(payload).filter(([, v]) => v !== null && v !== undefined);
  return present.length > 0 && present.every(([k]) => HEARTBEAT_FIELDS.has(k));
}

/** Turns a decoded envelope into the one record type the rest of the pipeline knows. */
export function toChangeEvent(payload: EnvelopePayload, origin: KafkaOrigin, schema?: RowSchema): Decoded {
  if (payload.op === undefined) {
    if (payload.ddl !== undefined) return { kind: 'skip', reason: 'schema-change' };
    if (isHeartbeat(payload)) return { kind: 'skip', reason: 'heartbeat' };
    throw new DecodeError(
      'not a Debezium change event (no "op"): is the connector flattening events with ExtractNewRecordState (unwrap), or is another producer writing to this topic? ferry needs the full Debezium envelope',
    );
  }
  const op = operations[payload.op];
  if (op === undefined) throw new DecodeError(`unknown Debezium operation "${payload.op}"`);
  const source = payload.source;
  if (!source?.db || !source.table) throw new DecodeError('change event has no source db/table');
  const event: ChangeEvent = {
    op,
    table: `${source.db}.${source.table}`,
    before: payload.before ?? null,
    after: payload.after ?? null,
    position: positionOf(source, payload.op),
    origin,
  };
  if ((op === 'create' || op === 'update' || op === 'snapshot') && event.after === null) {
    throw new DecodeError(`"${payload.op}" event without "after"`);
  }
  if (op === 'delete' && event.before === null) throw new DecodeError('"d" event without "before"');
  return schema === undefined ? { kind: 'change', event } : { kind: 'change', event, schema };
}

/**
 * Decodes one Kafka message; the format (JSON or Avro) lives behind this. The answers are
 * synchronous when nothing must be fetched (a schema already read): the pipeline then decodes a
 * chunk without yielding between messages.
 */
export interface EnvelopeDecoder {
  decode(value: Buffer | null, origin: KafkaOrigin): Decoded | Promise<Decoded>;
  /**
   * The Kafka key's shape: its field names ("id", "tenant,code"), or "(string)" and the like for
   * a key that is not a struct. null when the key cannot identify a row: absent (a table without
   * a primary key), JSON null, or a struct without fields.
   */
  keyShape(key: Buffer | null, origin: KafkaOrigin): string | null | Promise<string | null>;
}

/** Reads a Kafka key as the row of its columns, decoded as a change's row is (a tombstone carries nothing else). */
export interface KeyDecoder {
  /** null when the key has no columns to give: absent, not a struct, or not in the converter's format. */
  keyRow(key: Buffer | null, origin: KafkaOrigin): Promise<Row | null>;
}

/** Reads a message that is not a change event (one of Debezium's notifications) as a plain object. */
export interface RecordDecoder {
  record(value: Buffer, origin: KafkaOrigin): Promise<Record<string, unknown>>;
}

/** The shape of a decoded key value, by the rule of EnvelopeDecoder.keyShape. */
export function shapeOfFields(fields: readonly string[] | undefined, type: string): string | null {
  if (fields === undefined) return `(${type})`;
  return fields.length === 0 ? null : fields.join(',');
}

export function wrapDecodeError(err: unknown, origin: KafkaOrigin): DecodeError {
  if (err instanceof DecodeError) return err;
  return new DecodeError(`cannot decode ${origin.topic}[${origin.partition}]@${origin.offset}: ${describe(err)}`, {
    cause: err,
  });
}
