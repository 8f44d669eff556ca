import { DecodeError } from '../../src/core/errors';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import { AvroEnvelopeDecoder } from '../../src/source/debezium/avro-decoder';

const origin = { topic: 'ferry.db.t', partition: 0, offset: '1' };
const decode = (value: unknown) => new JsonEnvelopeDecoder().decode(Buffer.from(JSON.stringify(value)), origin);

describe('source > debezium > envelope recognition', () => {
  it("skips Debezium's heartbeat, which carries only its time, with or without a schema", async () => {
    expect(await decode({ ts_ms: 1_700_000_000_000 })).toEqual({ kind: 'skip', reason: 'heartbeat' });
    const withSchema = {
      schema: {
        type: 'struct',
        name: 'io.debezium.connector.common.Heartbeat',
        fields: [{ type: 'int64', optional: false, field: 'ts_ms' }],
      },
      payload: { ts_ms: 1_700_000_000_000 },
    };
    expect(await decode(withSchema)).toEqual({ kind: 'skip', reason: 'heartbeat' });
  });

  it('refuses a row flattened by ExtractNewRecordState (unwrap), naming the likely cause, instead of skipping it', async () => {
    const unwrapped = () => decode({ id: 7, email: 'a@example.com', ts_ms: 1 });
    expect(unwrapped).toThrow(DecodeError);
    expect(unwrapped).toThrow(/ExtractNewRecordState \(unwrap\)/);
    expect(() => decode({ anything: 'else' })).toThrow(/not a Debezium change event/);
  });
});

describe('source > debezium > key shapes', () => {
  const json = new JsonEnvelopeDecoder();
  const shape = (key: string | null) => json.keyShape(key === null ? null : Buffer.from(key), origin);

  it('names the columns of a struct key, with or without an embedded schema', async () => {
    expect(
      await shape(
        '{"schema":{"type":"struct","fields":[{"type":"string","field":"tenant"},{"type":"int32","field":"id"}]},"payload":{"tenant":"a","id":1}}',
      ),
    ).toBe('tenant,id');
    expect(await shape('{"code":"x"}')).toBe('code');
  });

  it('gives null for a key that cannot identify a row: none, JSON null, a struct without fields', async () => {
    expect(await shape(null)).toBeNull();
    expect(await shape('')).toBeNull();
    expect(await shape('null')).toBeNull();
    expect(await shape('{"schema":null,"payload":null}')).toBeNull();
    expect(await shape('{"schema":{"type":"struct","fields":[]},"payload":{}}')).toBeNull();
    expect(await shape('{}')).toBeNull();
  });

  it('keeps a key that is not a struct, or not JSON at all: it still identifies its row', async () => {
    expect(await shape('{"schema":{"type":"int32"},"payload":7}')).toBe('(int32)');
    expect(await shape('"abc"')).toBe('(string)');
    expect(await shape('Struct{id=1}')).toBe('(not JSON)');
    expect(await new AvroEnvelopeDecoder({ url: 'http://127.0.0.1:1' }).keyShape(Buffer.from('abc'), origin)).toBe(
      '(not Avro)',
    );
    expect(await new AvroEnvelopeDecoder({ url: 'http://127.0.0.1:1' }).keyShape(null, origin)).toBeNull();
  });
});
