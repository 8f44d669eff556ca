/** Synthetic Debezium change events cloned from a real message of a local connector, and Kafka plumbing. */
import { randomBytes } from 'node:crypto';
import avsc from 'avsc';
import { type IHeaders, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { endOfJsonValue } from '../../src/source/debezium/json-decoder';

export type Format = 'json' | 'avro';
/** The customers topic of each connector in debezium/ (mariadb-json.json, mariadb-avro.json). */
export const SOURCE_TOPICS: Record<Format, string> = {
  json: 'ferry.inventory.customers',
  avro: 'ferryavro.inventory.customers',
};
export const PARTITIONS = 12;
/**
 * Messages generated per round: ~50 a partition, so record batches of ~180 KB. Debezium's
 * producer writes 16 KB batches; either way a default kafkajs fetch (1 MB a partition) brings
 * ~250-290 of these 3.5 KB messages, where one 600 KB batch would bring ~170.
 */
const SEND_ROUND = 600;
const SEND_LANES = 4;

export const uniqueId = () => randomBytes(4).toString('hex');
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Json = Record<string, unknown>;

/** A real change event of a connector, taken apart so that clones keep its exact encoding. */
export interface Template {
  format: Format;
  payload: Json & { source: Json; after: Json };
  headers: IHeaders;
  bytes: number;
  /** The key and value messages of a change of row `id`, encoded as the connector encodes them. */
  encode: (id: number, payload: Json) => { key: Buffer; value: Buffer };
}

interface Captured {
  id: number;
  key: Buffer;
  value: Buffer;
  headers: IHeaders;
}

/**
 * Reads a customers topic to its end with a throwaway group and keeps the snapshot ('r') event
 * of the smallest key, so that every run clones the same message.
 */
async function captureSnapshotEvent(
  kafka: Kafka,
  topic: string,
  read: (key: Buffer, value: Buffer) => Promise<{ id: number; op: unknown }>,
): Promise<Captured> {
  const groupId = `ferry-bench-template-${uniqueId()}`;
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId });
  let seen = 0;
  let found: Captured | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen++;
        if (!message.key || !message.value) return;
        const { id, op } = await read(message.key, message.value);
        if (op === 'r' && (!found || id < found.id))
          found = { id, key: message.key, value: message.value, headers: message.headers ?? {} };
      },
    });
    const deadline = Date.now() + 60_000;
    while (seen < total) {
      if (Date.now() > deadline) throw new Error(`${topic}: read ${seen} of ${total} messages in 60 s`);
      await sleep(50);
    }
  } finally {
    await consumer.disconnect();
    await deleteGroups(kafka, [groupId]);
  }
  if (!found) throw new Error(`no snapshot event in ${topic}: is its connector registered (scripts/connector.sh)?`);
  return found;
}

export async function captureTemplate(kafka: Kafka, format: Format, registryUrl: string): Promise<Template> {
  return format === 'json' ? captureJsonTemplate(kafka) : captureAvroTemplate(kafka, registryUrl);
}

async function captureJsonTemplate(kafka: Kafka): Promise<Template> {
  const found = await captureSnapshotEvent(kafka, SOURCE_TOPICS.json, async (key, value) => ({
    id: Number(Object.values((JSON.parse(key.toString()) as { payload: Json }).payload)[0]),
    op: value.includes('"op":"r"') ? 'r' : undefined,
  }));
  const text = found.value.toString('utf8');
  const schemaEnd = endOfJsonValue(text, '{"schema":'.length);
  const valuePrefix = Buffer.from(`${text.slice(0, schemaEnd)},"payload":`);
  const key = JSON.parse(found.key.toString('utf8')) as { schema: unknown; payload: Json };
  const keyField = Object.keys(key.payload)[0] as string;
  return {
    format: 'json',
    payload: (JSON.parse(text) as { payload: Template['payload'] }).payload,
    headers: found.headers,
    bytes: found.value.length,
    encode: (id, payload) => ({
      key: Buffer.from(JSON.stringify({ schema: key.schema, payload: { [keyField]: id } })),
      value: Buffer.concat([valuePrefix, Buffer.from(JSON.stringify(payload)), CLOSE]),
    }),
  };
}

/** Avro longs that take numbers or BigInts, so that clones may carry nanosecond timestamps. */
const anyLong = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** The Confluent wire format the connector writes: magic byte 0, the schema id, the Avro body. */
async function avroCodec(registryUrl: string, framed: Buffer) {
  const id = framed.readInt32BE(1);
  const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
  if (!response.ok) throw new Error(`schema ${id}: ${response.status} from ${registryUrl}`);
  const { schema } = (await response.json()) as { schema: string };
  const type = avsc.Type.forSchema(JSON.parse(schema) as avsc.Schema, {
    typeHook: (s) =>
      s === 'long' || (typeof s === 'object' && (s as { type?: unknown }).type === 'long') ? anyLong : undefined,
  });
  const header = framed.subarray(0, 5);
  return {
    decode: (buf: Buffer) => type.fromBuffer(buf.subarray(5)) as Json,
    encode: (value: Json) => Buffer.concat([header, type.toBuffer(value)]),
  };
}

async function captureAvroTemplate(kafka: Kafka, registryUrl: string): Promise<Template> {
  const codecs = new Map<number, Promise<Awaited<ReturnType<typeof avroCodec>>>>();
  const codecOf = (framed: Buffer) => {
    const id = framed.readInt32BE(1);
    if (!codecs.has(id)) codecs.set(id, avroCodec(registryUrl, framed));
    return codecs.get(id) as ReturnType<typeof avroCodec>;
  };
  const found = await captureSnapshotEvent(kafka, SOURCE_TOPICS.avro, async (key, value) => ({
    id: Number(Object.values((await codecOf(key)).decode(key))[0]),
    op: (await codecOf(value)).decode(value).op,
  }));
  const keyCodec = await codecOf(found.key);
  const valueCodec = await codecOf(found.value);
  const keyField = Object.keys(keyCodec.decode(found.key))[0] as string;
  return {
    format: 'avro',
    payload: valueCodec.decode(found.value) as Template['payload'],
    headers: found.headers,
    bytes: found.value.length,
    encode: (id, payload) => ({ key: keyCodec.encode({ [keyField]: id }), value: valueCodec.encode(payload) }),
  };
}

/** Seeded PRNG (mulberry32): the same run produces the same workload. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface OpCounts {
  c: number;
  u: number;
  d: number;
}

const CLOSE = Buffer.from('}');
const ROWS_PER_EVENT = 4;

/**
 * Streamed changes over `keys` distinct rows: a key not in the table is created, a live key is
 * updated (full before image) or, with `deleteRatio`, deleted (followed by a tombstone, as the
 * connector's tombstones.on.delete=true does). Binlog positions only grow.
 */
export class ChangeGenerator {
  readonly ops: OpCounts = { c: 0, u: 0, d: 0 };
  /** Rows that exist after everything generated so far: the expected target state. */
  readonly live = new Map<number, Json>();
  messages = 0;
  private readonly rand: () => number;
  private pos: number;
  private seq = 0;

  constructor(
    private readonly template: Template,
    readonly keys: number,
    private readonly deleteRatio = 0.08,
    seed = 42,
  ) {
    this.rand = random(seed);
    this.pos = Number(template.payload.source.pos ?? 4) + 1000;
  }

  get events(): number {
    return this.ops.c + this.ops.u + this.ops.d;
  }

  /** One change event (two messages for a delete: the event and its tombstone), stamped `nowMs`. */
  next(nowMs: number, out: Message[]): void {
    const { template } = this;
    const id = 1_000_000 + Math.floor(this.rand() * this.keys);
    const before = this.live.get(id) ?? null;
    const op = before === null ? 'c' : this.rand() < this.deleteRatio ? 'd' : 'u';
    const seq = this.seq++;
    if (seq % ROWS_PER_EVENT === 0) this.pos += 412;
    const after =
      op === 'd'
        ? null
        : {
            ...template.payload.after,
            id,
            email: `customer${id}.v${seq}@example.fr`,
            status: seq % 7 === 0 ? 'suspended' : 'active',
          };
    if (after) this.live.set(id, after);
    else this.live.delete(id);
    this.ops[op]++;
    const payload = {
      ...template.payload,
      before,
      after,
      source: {
        ...template.payload.source,
        ts_ms: nowMs,
        ts_us: nowMs * 1000,
        ts_ns: nowMs * 1_000_000,
        snapshot: 'false',
        server_id: 1,
        gtid: `0-1-${1000 + Math.floor(seq / ROWS_PER_EVENT)}`,
        pos: this.pos,
        row: seq % ROWS_PER_EVENT,
        thread: 7,
      },
      op,
      ts_ms: nowMs,
      ts_us: nowMs * 1000,
      ts_ns: nowMs * 1_000_000,
    };
    const { key, value } = template.encode(id, payload);
    out.push({ key, value, headers: template.headers });
    if (op === 'd') out.push({ key, value: null, headers: template.headers });
    this.messages += op === 'd' ? 2 : 1;
  }
}

export async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}

export async function deleteGroups(kafka: Kafka, groups: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
}

export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/**
 * Produces `events` change events as fast as Kafka takes them. kafkajs may reorder concurrent
 * sends, so each partition belongs to one of SEND_LANES lanes whose requests are chained: per-key
 * order is the generator's, as Debezium's is the binlog's.
 */
export async function produceBacklog(producer: Producer, topic: string, gen: ChangeGenerator, events: number) {
  const partitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  const lanes: Array<Promise<unknown>> = Array.from({ length: SEND_LANES }, () => Promise.resolve());
  const inFlight: Array<Promise<unknown>> = [];
  const target = gen.events + events;
  while (gen.events < target) {
    const round: Message[] = [];
    const now = Date.now();
    while (round.length < SEND_ROUND && gen.events < target) gen.next(now, round);
    const byLane = Array.from({ length: SEND_LANES }, () => [] as Message[]);
    for (const message of round) {
      const partition = partitionOf({ topic, partitionMetadata, message });
      byLane[partition % SEND_LANES]?.push({ ...message, partition });
    }
    byLane.forEach((messages, lane) => {
      const sent = (lanes[lane] as Promise<unknown>).then(() => producer.send({ topic, acks: 1, messages }));
      sent.catch(() => undefined); // awaited below; a failure surfaces there
      lanes[lane] = sent;
      inFlight.push(sent);
    });
    // Wait for the oldest request: each wait retires one, so the loop always progresses.
    while (inFlight.length > 2 * SEND_LANES) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** Produces `rate` events a second for `seconds`, each stamped when it is sent; returns the achieved rate. */
export async function produceAtRate(
  producer: Producer,
  topic: string,
  gen: ChangeGenerator,
  rate: number,
  seconds: number,
): Promise<number> {
  const started = Date.now();
  const first = gen.events;
  for (;;) {
    const elapsed = Date.now() - started;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((rate * elapsed) / 1000) - (gen.events - first);
    if (due > 0) {
      const messages: Message[] = [];
      const now = Date.now();
      for (let i = 0; i < due; i++) gen.next(now, messages);
      await producer.send({ topic, acks: 1, messages });
    }
    await sleep(10);
  }
  return ((gen.events - first) * 1000) / (Date.now() - started);
}
