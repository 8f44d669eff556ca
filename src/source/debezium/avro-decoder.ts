import avsc from 'avsc';
import type { KafkaOrigin, Row } from '../../core/change-event';
import { DecodeError, FerryError } from '../../core/errors';
import {
  type Decoded,
  type EnvelopeDecoder,
  type KeyDecoder,
  type RecordDecoder,
  type EnvelopePayload,
  shapeOfFields,
  toChangeEvent,
  wrapDecodeError,
} from './envelope';
import { COLUMN_NAME, type ConnectSchema, columnName, flavorOf, rowDecoder } from './logical-types';
import type { RowSchema } from '../../core/row-schema';
import { rowSchemaOf } from './row-schema';
import { RegistryHttp, type RegistrySettings } from './registry-http';

// Avro longs as BigInt: Debezium's microsecond timestamps and BIGINT columns exceed 2^53.
const exactLong = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Every `long`, named (`"long"`) or not (`{"type": "long", "connect.name": ...}`), read exactly. */
const longsAsBigInt = (schema: unknown) =>
  schema === 'long' || (isObject(schema) && schema.type === 'long' && schema.logicalType === undefined)
    ? exactLong
    : undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

type AvroType = string | AvroType[] | { type: AvroType; [attribute: string]: unknown };

/** What one writer schema (one registry id) compiles to. */
interface WriterSchema {
  type: avsc.Type;
  decodeRow: (raw: unknown) => Row;
  rowSchema?: RowSchema;
  /** When the schema is a key's: see EnvelopeDecoder.keyShape. */
  keyShape: string | null;
  /** When the schema is a key's: its columns decoded as a row's, compiled on first use. */
  keyRow: () => ((raw: unknown) => Row) | undefined;
}

/**
 * Debezium Avro in the Confluent wire format: magic byte 0, a 4-byte schema id, the Avro body.
 * Each writer schema is fetched once from the registry's Confluent API and compiled on its own
 * (a schema change registers a new id whose record names repeat the old ones).
 */
/** A registry that does not answer by then is unavailable (retried), never awaited forever. */

export class AvroEnvelopeDecoder implements EnvelopeDecoder, KeyDecoder, RecordDecoder {
  private readonly schemas = new Map<number, Promise<WriterSchema>>();
  /** The schemas fetched and compiled: a message of one of them decodes without a wait. */
  private readonly ready = new Map<number, WriterSchema>();

  private readonly registry: RegistryHttp;

  constructor(settings: RegistrySettings) {
    this.registry = new RegistryHttp(settings);
  }

  decode(value: Buffer | null, origin: KafkaOrigin): Decoded | Promise<Decoded> {
    if (value === null || value.length === 0) return { kind: 'skip', reason: 'tombstone' };
    const ready = value.length >= 5 && value[0] === 0 ? this.ready.get(value.readInt32BE(1)) : undefined;
    if (ready) {
      try {
        return decodeWith(ready, value, origin);
      } catch (err) {
        throw this.explain(err, origin);
      }
    }
    return this.registryCall(origin, async () => {
      if (value.length < 5 || value[0] !== 0) throw new DecodeError('not in the Confluent wire format (magic byte 0)');
      return decodeWith(await this.writerSchema(value.readInt32BE(1)), value, origin);
    });
  }

  keyShape(key: Buffer | null, origin: KafkaOrigin): string | null | Promise<string | null> {
    if (key === null || key.length === 0) return null;
    // A key in another format (a string converter) still identifies its row: it cannot be read, not absent.
    if (key.length < 5 || key[0] !== 0) return '(not Avro)';
    const ready = this.ready.get(key.readInt32BE(1));
    if (ready) return ready.keyShape;
    return this.registryCall(origin, async () => (await this.writerSchema(key.readInt32BE(1))).keyShape);
  }

  async keyRow(key: Buffer | null, origin: KafkaOrigin): Promise<Row | null> {
    if (key === null || key.length < 5 || key[0] !== 0) return null;
    return this.registryCall(origin, async () => {
      const schema = await this.writerSchema(key.readInt32BE(1));
      const decode = schema.keyRow();
      const raw: unknown = schema.type.fromBuffer(key.subarray(5));
      return decode && isObject(raw) ? decode(raw) : null;
    });
  }

  async record(value: Buffer, origin: KafkaOrigin): Promise<Record<string, unknown>> {
    return this.registryCall(origin, async () => {
      if (value.length < 5 || value[0] !== 0) throw new DecodeError('not in the Confluent wire format (magic byte 0)');
      return (await this.writerSchema(value.readInt32BE(1))).type.fromBuffer(value.subarray(5)) as Record<
        string,
        unknown
      >;
    });
  }

  /** Registry outages become retriable errors; anything else a DecodeError naming the message. */
  private async registryCall<T>(origin: KafkaOrigin, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.explain(err, origin);
    }
  }

  private explain(err: unknown, origin: KafkaOrigin): Error {
    // A refused login or an untrusted certificate: every message would fail alike.
    if (err instanceof FerryError && err.systemic) return err;
    if (isRegistryUnavailable(err)) {
      return new FerryError(`schema registry ${this.registry.url} unavailable: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
      });
    }
    return wrapDecodeError(err, origin);
  }

  /** The writer schema's Avro type and row decoder, from its raw text (avsc drops the connect.* attributes). */
  private writerSchema(id: number): Promise<WriterSchema> {
    let schema = this.schemas.get(id);
    if (!schema) {
      schema = this.registry.get(`/schemas/ids/${id}`).then(async (res) => {
        if (res.status === 404) {
          // A wrong URL answers 404 to everything: that blocks, it does not dead-letter every message.
          await this.expectRegistry();
          throw new DecodeError(`schema id ${id} is not in the registry at ${this.registry.url}`);
        }
        if (!res.ok)
          throw Object.assign(new Error(`HTTP ${res.status} for schema ${id}`), { registryUnavailable: true });
        const text = ((await res.json()) as { schema: string }).schema;
        const compiled = compile(JSON.parse(text) as AvroType);
        this.ready.set(id, compiled);
        return compiled;
      });
      schema.catch(() => this.schemas.delete(id));
      this.schemas.set(id, schema);
    }
    return schema;
  }

  /** Throws (as unavailable, so retried) unless the URL answers the Confluent API's GET /subjects. */
  private async expectRegistry(): Promise<void> {
    const url = `${this.registry.url}/subjects`;
    const res = await this.registry.get('/subjects');
    const body: unknown = res.ok ? await res.json().catch(() => undefined) : undefined;
    if (!Array.isArray(body))
      throw Object.assign(
        new Error(
          `GET ${url} answered HTTP ${res.status}${res.ok ? ' without a list of subjects' : ''}: schemaRegistry.url must point at a Confluent-compatible API (for Apicurio, .../apis/ccompat/v7)`,
        ),
        { registryUnavailable: true },
      );
  }
}

/** A Debezium envelope in the Confluent wire format, with its writer schema. */
function decodeWith({ type, decodeRow, rowSchema }: WriterSchema, value: Buffer, origin: KafkaOrigin): Decoded {
  const payload = type.fromBuffer(value.subarray(5)) as EnvelopePayload;
  return toChangeEvent(
    {
      ...payload,
      before: payload.before ? decodeRow(payload.before) : null,
      after: payload.after ? decodeRow(payload.after) : null,
    },
    origin,
    rowSchema,
  );
}

function compile(writer: AvroType): WriterSchema {
  const avro = withoutProtoFields(writer);
  // A fresh registry of names for every schema: versions of one table share record names.
  const type = avsc.Type.forSchema(avro as avsc.Schema, { registry: {}, typeHook: longsAsBigInt });
  const envelope = toConnect(avro);
  const rowSchema = envelope.fields?.find((f) => (f.field === 'after' || f.field === 'before') && f.fields);
  let keyRow: ((raw: unknown) => Row) | undefined | null = null;
  return {
    type,
    decodeRow: rowSchema ? rowDecoder(rowSchema, flavorOf(envelope)) : (raw: unknown) => raw as Row,
    ...(rowSchema ? { rowSchema: rowSchemaOf(rowSchema) } : {}),
    keyShape: shapeOfFields(envelope.fields?.map(columnName), envelope.type),
    keyRow: () => {
      if (keyRow === null)
        keyRow = envelope.type === 'struct' && (envelope.fields?.length ?? 0) > 0 ? rowDecoder(envelope) : undefined;
      return keyRow;
    },
  };
}

/** Where a renamed field keeps its column's name (see withoutProtoFields). */
const COLUMN_ATTRIBUTE = 'ferry.column';

/**
 * The schema with each record field named `__proto__` renamed (a name no other field has).
 * avsc compiles a record into `this.<field> = value`, which for that name sets the record's
 * prototype and loses the value; Avro's binary encoding is positional, so the name is free. The
 * column keeps its name through COLUMN_ATTRIBUTE.
 */
function withoutProtoFields(avro: AvroType): AvroType {
  if (Array.isArray(avro)) return avro.map(withoutProtoFields);
  if (typeof avro === 'string') return avro;
  const copy: Record<string, unknown> = { ...avro, type: withoutProtoFields(avro.type) };
  if (avro.type === 'record') {
    const fields = avro.fields as Array<{ name: string; type: AvroType }>;
    const names = new Set(fields.map((f) => f.name));
    let safe = '__proto___';
    while (names.has(safe)) safe += '_';
    copy.fields = fields.map((f) => ({
      ...f,
      type: withoutProtoFields(f.type),
      ...(f.name === '__proto__' ? { name: safe, [COLUMN_ATTRIBUTE]: f.name } : {}),
    }));
  }
  if (avro.type === 'array') copy.items = withoutProtoFields(avro.items as AvroType);
  return copy as AvroType;
}

const isRegistryUnavailable = (err: unknown) => Boolean((err as { registryUnavailable?: boolean }).registryUnavailable);

const primitives: Record<string, string> = {
  int: 'int32',
  long: 'int64',
  float: 'float32',
  double: 'float64',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
};

/**
 * Reads an Avro schema the way Debezium's AvroConverter wrote it back into Connect terms. A
 * record defined once and referenced again by name (the envelope's `after`, a second geometry
 * column) resolves to its definition.
 */
export function toConnect(
  avro: AvroType,
  field?: string,
  named = new Map<string, ConnectSchema>(),
  namespace?: string,
): ConnectSchema {
  if (Array.isArray(avro)) {
    const branches = avro.filter((t) => t !== 'null');
    if (branches.length !== 1) throw new DecodeError(`unsupported Avro union for ${field}`);
    return { ...toConnect(branches[0] as AvroType, field, named, namespace), optional: true };
  }
  if (typeof avro === 'string') {
    const definition = named.get(avro) ?? (namespace ? named.get(`${namespace}.${avro}`) : undefined);
    if (definition) return { ...definition, field };
    return { type: primitives[avro] ?? avro, field };
  }
  const attrs = avro as Record<string, unknown>;
  const base: ConnectSchema = {
    type:
      (attrs['connect.type'] as string | undefined) ??
      (typeof avro.type === 'string' ? (primitives[avro.type] ?? avro.type) : 'struct'),
    field,
    name: attrs['connect.name'] as string | undefined,
    parameters: attrs['connect.parameters'] as Record<string, string> | undefined,
    ...(attrs['connect.default'] === undefined ? {} : { default: attrs['connect.default'] }),
  };
  if (avro.type === 'record') {
    const name = attrs.name as string;
    const ns = (attrs.namespace as string | undefined) ?? (name.includes('.') ? undefined : namespace);
    const fullName = name.includes('.') || !ns ? name : `${ns}.${name}`;
    const inner = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;
    const record: ConnectSchema = { ...base, type: 'struct', fields: [] };
    named.set(fullName, record);
    const fields = attrs.fields as Array<{ name: string; type: AvroType; [COLUMN_ATTRIBUTE]?: string }>;
    record.fields = fields.map((f) => {
      const connect = toConnect(f.type, f.name, named, inner);
      const column = f[COLUMN_ATTRIBUTE];
      return column ? { ...connect, parameters: { ...connect.parameters, [COLUMN_NAME]: column } } : connect;
    });
    return record;
  }
  if (avro.type === 'array')
    return { ...base, type: 'array', items: toConnect(attrs.items as AvroType, undefined, named, namespace) };
  if (typeof avro.type !== 'string') {
    const inner = toConnect(avro.type, field, named, namespace);
    return { ...inner, name: base.name ?? inner.name };
  }
  return base;
}
