import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import type { KafkaOrigin, Row } from '../../core/change-event';
import { DecodeError, FerryError } from '../../core/errors';
import { type Decoded, type EnvelopeDecoder, type EnvelopePayload, toChangeEvent, wrapDecodeError } from './envelope';
import { type ConnectSchema, type DecodeOptions, rowDecoder } from './logical-types';

// Avro longs as BigInt: Debezium's nanosecond timestamps and BIGINT columns exceed 2^53.
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

type AvroType = string | AvroType[] | { type: AvroType; [attribute: string]: unknown };

/** Debezium Avro in the Confluent wire format: magic byte 0, a 4-byte schema id, the Avro body. */
export class AvroEnvelopeDecoder implements EnvelopeDecoder {
  private readonly registry: SchemaRegistry;
  private readonly rows = new Map<number, Promise<(raw: unknown) => Row>>();

  constructor(
    private readonly registryUrl: string,
    private readonly options: DecodeOptions,
  ) {
    this.registry = new SchemaRegistry({ host: registryUrl }, { [SchemaType.AVRO]: { registry: { long: exactLong } } });
  }

  async decode(value: Buffer | null, origin: KafkaOrigin): Promise<Decoded> {
    if (value === null || value.length === 0) return { kind: 'skip', reason: 'tombstone' };
    try {
      if (value.length < 5 || value[0] !== 0) throw new DecodeError('not in the Confluent wire format (magic byte 0)');
      const decodeRow = await this.rowDecoderFor(value.readInt32BE(1));
      const payload = (await this.registry.decode(value)) as EnvelopePayload & { source?: { ts_ms?: unknown } };
      return toChangeEvent(
        {
          ...payload,
          before: payload.before ? decodeRow(payload.before) : null,
          after: payload.after ? decodeRow(payload.after) : null,
        },
        origin,
      );
    } catch (err) {
      if (isRegistryUnavailable(err)) {
        throw new FerryError(`schema registry ${this.registryUrl} unavailable: ${(err as Error).message}`, {
          retriable: true,
          cause: err,
        });
      }
      throw wrapDecodeError(err, origin);
    }
  }

  /** The writer schema's row decoder, from its raw text (avsc drops the connect.* attributes). */
  private rowDecoderFor(id: number): Promise<(raw: unknown) => Row> {
    let decoder = this.rows.get(id);
    if (!decoder) {
      const url = `${this.registryUrl}/schemas/ids/${id}`;
      const unavailable = (cause: unknown) => {
        throw Object.assign(new Error(`cannot reach ${url}: ${(cause as Error).message}`), {
          registryUnavailable: true,
        });
      };
      decoder = fetch(url).then(async (res) => {
        if (res.status === 404) throw new DecodeError(`schema id ${id} is not in the registry`);
        if (!res.ok)
          throw Object.assign(new Error(`HTTP ${res.status} for schema ${id}`), { registryUnavailable: true });
        const envelope = toConnect(JSON.parse(((await res.json()) as { schema: string }).schema) as AvroType);
        const rowSchema = envelope.fields?.find((f) => f.field === 'after' || f.field === 'before');
        return rowSchema ? rowDecoder(rowSchema, this.options) : (raw: unknown) => raw as Row;
      }, unavailable);
      decoder.catch(() => this.rows.delete(id));
      this.rows.set(id, decoder);
    }
    return decoder;
  }
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

/** Reads an Avro schema the way Debezium's AvroConverter wrote it back into Connect terms. */
export function toConnect(avro: AvroType, field?: string): ConnectSchema {
  if (Array.isArray(avro)) {
    const branches = avro.filter((t) => t !== 'null');
    if (branches.length !== 1) throw new DecodeError(`unsupported Avro union for ${field}`);
    return { ...toConnect(branches[0] as AvroType, field), optional: true };
  }
  if (typeof avro === 'string') return { type: primitives[avro] ?? avro, field };
  const attrs = avro as Record<string, unknown>;
  const base: ConnectSchema = {
    type:
      (attrs['connect.type'] as string | undefined) ??
      (typeof avro.type === 'string' ? (primitives[avro.type] ?? avro.type) : 'struct'),
    field,
    name: attrs['connect.name'] as string | undefined,
    parameters: attrs['connect.parameters'] as Record<string, string> | undefined,
  };
  if (avro.type === 'record') {
    const fields = attrs.fields as Array<{ name: string; type: AvroType }>;
    return { ...base, type: 'struct', fields: fields.map((f) => toConnect(f.type, f.name)) };
  }
  if (avro.type === 'array') return { ...base, type: 'array', items: toConnect(attrs.items as AvroType) };
  if (typeof avro.type !== 'string')
    return { ...toConnect(avro.type, field), name: base.name ?? toConnect(avro.type).name };
  return base;
}
