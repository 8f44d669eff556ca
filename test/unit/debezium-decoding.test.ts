/**
 * Decodes real Debezium messages (test/fixtures/debezium, captured by
 * scripts/capture-fixtures.ts from MariaDB 10.11 through Debezium 3.2) and checks every column
 * against the values the capture script inserted. Needs nothing running: the Avro variant's
 * schemas come from a fake registry on 127.0.0.1.
 */
import fc from 'fast-check';
import type { ChangeEvent } from '../../src/core/change-event';
import type { Row } from '../../src/core/change-event';
import { ItemError } from '../../src/core/errors';
import { applyMapping } from '../../src/mapping/apply-mapping';
import { compileMapping } from '../../src/mapping/define-mapping';
import { AvroEnvelopeDecoder } from '../../src/source/debezium/avro-decoder';
import type { Decoded, EnvelopeDecoder, KeyDecoder } from '../../src/source/debezium/envelope';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import {
  type FixtureMessage,
  type Variant,
  WIDE_DECIMAL,
  comparable,
  expectedRow,
  fakeRegistry,
  loadMessages,
  sparseRow,
  valueBuffer,
  variants,
} from '../fixtures/debezium/fixtures';

interface Outcome {
  message: FixtureMessage;
  decoded?: Decoded;
  error?: unknown;
}

const origin = (m: FixtureMessage) => ({ topic: m.topic, partition: m.partition, offset: m.offset });

async function decodeAll(decoder: EnvelopeDecoder, variant: Variant, messages: FixtureMessage[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const message of messages) {
    try {
      outcomes.push({ message, decoded: await decoder.decode(valueBuffer(variant, message), origin(message)) });
    } catch (error) {
      outcomes.push({ message, error });
    }
  }
  return outcomes;
}

const events = (outcomes: Outcome[]) =>
  outcomes.flatMap((o) => (o.decoded?.kind === 'change' ? [{ event: o.decoded.event, message: o.message }] : []));

const rowId = (e: ChangeEvent) => Number((e.after ?? e.before)?.id);

/** History order: source position, then (for the two events of a primary-key change) row id. */
const byHistory = (a: ChangeEvent, b: ChangeEvent) =>
  a.position.version < b.position.version ? -1 : a.position.version > b.position.version ? 1 : rowId(a) - rowId(b);

/** Every change the capture script made, in binlog order, as ferry must decode it. */
function expectedHistory(v: Variant) {
  const snap = { lateJson: false };
  const late = { lateJson: true };
  // Rows 1 and 2 existed before c_json_late was added: it is NULL in them.
  const old = (set: Record<string, unknown> = {}) => ({ lateJson: true, set: { c_json_late: null, ...set } });
  return [
    { op: 'snapshot', before: null, after: expectedRow(v, 'max', 1, snap) },
    // Debezium's snapshot adds 2000 to a YEAR below 70, 0000 included (README, "How column values arrive").
    { op: 'snapshot', before: null, after: expectedRow(v, 'min', 2, { ...snap, set: { c_year: 2000 } }) },
    { op: 'snapshot', before: null, after: expectedRow(v, 'typical', 3, snap) },
    { op: 'snapshot', before: null, after: expectedRow(v, 'null', 4, snap) },
    { op: 'create', before: null, after: expectedRow(v, 'max', 11, late) },
    { op: 'create', before: null, after: expectedRow(v, 'min', 12, late) },
    { op: 'create', before: null, after: expectedRow(v, 'typical', 13, late) },
    { op: 'create', before: null, after: expectedRow(v, 'null', 14, late) },
    {
      op: 'update',
      before: expectedRow(v, 'min', 12, late),
      after: expectedRow(v, 'min', 12, { lateJson: true, set: { c_varchar: 'updated ✓', c_set: ['b'], c_int: 7 } }),
    },
    // UPDATE ... SET id = 21 WHERE id = 11: a delete of the old key and a create of the new one.
    { op: 'delete', before: expectedRow(v, 'max', 11, late), after: null },
    { op: 'create', before: null, after: expectedRow(v, 'max', 21, late) },
    { op: 'delete', before: expectedRow(v, 'null', 14, late), after: null },
    // The transaction.
    { op: 'update', before: expectedRow(v, 'max', 1, old()), after: expectedRow(v, 'max', 1, old({ c_int: 1 })) },
    {
      op: 'update',
      before: expectedRow(v, 'max', 1, old({ c_int: 1 })),
      after: expectedRow(v, 'max', 1, old({ c_int: 2 })),
    },
    { op: 'create', before: null, after: sparseRow(30, 'tx-a') },
    { op: 'create', before: null, after: sparseRow(31, 'tx-b') },
    { op: 'delete', before: expectedRow(v, 'min', 2, old()), after: null },
  ];
}

describe.each(variants)('source > debezium > decoding real $name messages', (variant) => {
  const messages = loadMessages(variant);
  let registry: Awaited<ReturnType<typeof fakeRegistry>> | undefined;
  const decoder = (): EnvelopeDecoder =>
    variant.format === 'avro'
      ? new AvroEnvelopeDecoder({ url: (registry as NonNullable<typeof registry>).url })
      : new JsonEnvelopeDecoder();

  beforeAll(async () => {
    if (variant.format === 'avro') registry = await fakeRegistry(variant);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('holds what the capture script produced: 20 messages of one table', () => {
    expect(messages).toHaveLength(20);
    expect(new Set(messages.map((m) => m.topic)).size).toBe(1);
    expect(messages[0]?.topic).toMatch(/^t[0-9a-f]{8}\.ferry_test_fixtures_[0-9a-f]{8}\.all_types$/);
  });

  it('decodes every column of every change to the exact value the SQL wrote', async () => {
    const outcomes = await decodeAll(decoder(), variant, messages);
    expect(outcomes.filter((o) => o.error !== undefined).map((o) => String(o.error))).toEqual([]);
    const decoded = events(outcomes)
      .map((e) => e.event)
      .sort(byHistory);
    const actual = decoded.map((e) => ({ op: e.op, before: comparable(e.before), after: comparable(e.after) }));
    const expected = expectedHistory(variant);
    expect(actual).toHaveLength(expected.length);
    // Row by row, so that a failure names the change.
    actual.forEach((change, i) => expect({ i, ...change }).toEqual({ i, ...expected[i] }));
    const database = /\.(ferry_test_fixtures_[0-9a-f]+)\.all_types$/.exec(messages[0]?.topic ?? '')?.[1];
    for (const e of decoded) expect(e.table).toBe(`${database}.all_types`);
  });

  it('gives the origin of each message', async () => {
    const outcomes = await decodeAll(decoder(), variant, messages);
    for (const { event, message } of events(outcomes)) expect(event.origin).toEqual(origin(message));
  });

  it("reads every captured key's shape as the primary key's columns", async () => {
    const d = decoder();
    const shapes = await Promise.all(
      messages.map((m) =>
        d.keyShape(
          m.key === null ? null : Buffer.from(m.key, variant.format === 'avro' ? 'base64' : 'utf8'),
          origin(m),
        ),
      ),
    );
    expect(new Set(shapes)).toEqual(new Set(['id']));
  });

  it('skips the tombstone after each delete', async () => {
    const outcomes = await decodeAll(decoder(), variant, messages);
    const tombstones = outcomes.filter((o) => o.message.value === null);
    expect(tombstones).toHaveLength(3);
    for (const t of tombstones) expect(t.decoded).toEqual({ kind: 'skip', reason: 'tombstone' });
    // Each follows the delete of its key in the same partition.
    for (const t of tombstones) {
      const previous = outcomes.find(
        (o) =>
          o.message.partition === t.message.partition && BigInt(o.message.offset) === BigInt(t.message.offset) - 1n,
      );
      expect(previous?.decoded).toMatchObject({ kind: 'change', event: { op: 'delete' } });
      expect(previous?.message.key).toBe(t.message.key);
    }
  });

  it("reads each tombstone's key as the key columns of the row its delete removed", async () => {
    const d = decoder() as EnvelopeDecoder & KeyDecoder;
    const outcomes = await decodeAll(d, variant, messages);
    const keyBuffer = (m: FixtureMessage) =>
      m.key === null ? null : Buffer.from(m.key, variant.format === 'avro' ? 'base64' : 'utf8');
    const tombstones = outcomes.filter((o) => o.message.value === null);
    expect(tombstones).toHaveLength(3);
    for (const t of tombstones) {
      const deleted = outcomes.find(
        (o) =>
          o.message.partition === t.message.partition && BigInt(o.message.offset) === BigInt(t.message.offset) - 1n,
      );
      const before = deleted?.decoded?.kind === 'change' ? deleted.decoded.event.before : undefined;
      expect(await d.keyRow(keyBuffer(t.message), origin(t.message))).toEqual({ id: before?.id });
    }
  });

  if (variant.decimals === 'precise') {
    it('prepares every change for DynamoDB except numbers a DynamoDB Number cannot hold, naming the column and the value', async () => {
      const outcomes = await decodeAll(decoder(), variant, messages);
      const mapping = compileMapping({
        name: 'all-types',
        source: { table: 'db.all_types' },
        target: { table: 'all-types', partitionKey: { name: 'id', type: 'N' } },
        key: (row: Row) => ({ id: row.id as number }),
        item: (row: Row) => row,
      });
      const prepared = events(outcomes).map(({ event }) => {
        try {
          return { id: rowId(event), intents: applyMapping(mapping, event) };
        } catch (error) {
          return { id: rowId(event), error };
        }
      });
      const refused = prepared.flatMap((p) => ('error' in p ? [p] : []));
      // Rows 2 and 12 hold DOUBLE -1e-300 (below DynamoDB's 1E-130); rows 3 and 13 a DECIMAL of 64 digits.
      const expected: Record<number, [string, string]> = {
        2: ['c_double', '-1e-300'],
        3: ['c_decimal_wide', WIDE_DECIMAL],
        12: ['c_double', '-1e-300'],
        13: ['c_decimal_wide', WIDE_DECIMAL],
      };
      expect([...new Set(refused.map((p) => p.id))].sort((a, b) => a - b)).toEqual([2, 3, 12, 13]);
      for (const { id, error } of refused) {
        const [column, value] = expected[id] as [string, string];
        expect(error).toBeInstanceOf(ItemError);
        expect((error as Error).message).toContain(`attribute "${column}": ${value}`);
      }
      // Under numberOverflow 'string' the same value is stored as its exact text.
      const wide = events(outcomes).find(({ event }) => rowId(event) === 3)?.event as ChangeEvent;
      const [put] = applyMapping(mapping, wide, { numberOverflow: 'string' });
      expect(put?.kind === 'put' && put.attributes.c_decimal_wide).toEqual({ S: WIDE_DECIMAL });
    });
  }
});

/**
 * Int64 columns beyond 2^53 are read again from the payload's text, not by parsing it whole: on a
 * captured update, with int64 and text columns of generated names and contents added (quotes,
 * backslashes, braces, colons), every int64 decodes to its exact value, before and after.
 */
describe('source > debezium > exact int64 on generated columns', () => {
  const captured = loadMessages(variants[0] as Variant).find((m) => m.value?.includes('"op":"u"')) as FixtureMessage;
  const envelope = JSON.parse(captured.value as string) as {
    schema: { fields: Array<{ field: string; fields?: unknown[] }> };
    payload: Record<string, Record<string, unknown>>;
  };
  const taken = new Set(Object.keys(envelope.payload.after ?? {}));
  const name = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('before', 'after', 'op', 'source'));
  const int64 = fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.constantFrom(2n ** 53n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)),
  );
  const columns = fc.uniqueArray(
    fc.record({
      name: name.filter((n) => !taken.has(n)),
      int64: fc.boolean(),
      before: fc.option(int64),
      after: fc.option(int64),
      text: fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ':', ',', 'a', '1', 'é') }),
      // A text that reads like another column's number: "<name>":<digits>.
      mimics: fc.boolean(),
    }),
    { selector: (c) => c.name, minLength: 1, maxLength: 6 },
  );

  // Node 24's JSON.rawJSON writes the digits as JsonConverter does; TypeScript's lib has no type for it yet.
  const rawJson = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;

  it('decodes every int64 exactly, whatever the names and contents around it', async () => {
    await fc.assert(
      fc.asyncProperty(columns, async (added) => {
        const message = structuredClone(envelope);
        const mimicked = added.find((c) => c.int64)?.name;
        for (const c of added) if (c.mimics && !c.int64 && mimicked) c.text = `","${mimicked}":12345678901234567891,"`;
        const rowValue = (c: (typeof added)[number], side: 'before' | 'after') =>
          c.int64 ? (c[side] === null ? null : rawJson(String(c[side]))) : c.text;
        for (const field of message.schema.fields.filter((f) => f.field === 'before' || f.field === 'after'))
          for (const c of added)
            field.fields?.push({ type: c.int64 ? 'int64' : 'string', optional: true, field: c.name });
        for (const side of ['before', 'after'] as const)
          for (const c of added) (message.payload[side] as Record<string, unknown>)[c.name] = rowValue(c, side);
        const decoded = await new JsonEnvelopeDecoder().decode(Buffer.from(JSON.stringify(message)), origin(captured));
        if (decoded.kind !== 'change') throw new Error(`decoded as ${decoded.kind}`);
        for (const side of ['before', 'after'] as const)
          for (const c of added) {
            const exact = c[side];
            const expected = !c.int64
              ? c.text
              : exact === null
                ? null
                : Number.isSafeInteger(Number(exact))
                  ? Number(exact)
                  : exact;
            expect({ side, column: c.name, value: decoded.event[side]?.[c.name] }).toEqual({
              side,
              column: c.name,
              value: expected,
            });
          }
      }),
      { numRuns: 300 },
    );
  });
});
