import { DecodeError } from '../../src/core/errors';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';

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
    const unwrapped = decode({ id: 7, email: 'a@example.com', ts_ms: 1 });
    await expect(unwrapped).rejects.toThrow(DecodeError);
    await expect(unwrapped).rejects.toThrow(/ExtractNewRecordState \(unwrap\)/);
    await expect(decode({ anything: 'else' })).rejects.toThrow(/not a Debezium change event/);
  });
});
