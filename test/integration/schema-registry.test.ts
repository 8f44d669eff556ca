/** What a schema registry's answers mean for a message, against the stack's registry. */
import { DecodeError, FerryError } from '../../src/core/errors';
import { AvroEnvelopeDecoder } from '../../src/source/debezium/avro-decoder';
import { stack } from '../support/stack';

/** An Avro message in the Confluent wire format naming schema `id`, with a body never read. */
const message = (id: number) =>
  Buffer.concat([Buffer.from([0]), Buffer.from(new Uint32Array([id]).buffer).reverse(), Buffer.from([2])]);
const origin = { topic: 't', partition: 0, offset: '7' };

describe('schema registry', () => {
  it('blocks (retriable) on a URL that is not a Confluent-compatible registry, naming the setting', async () => {
    const wrong = stack.registryUrl; // the server, without the ccompat path
    const decoder = new AvroEnvelopeDecoder({ url: wrong });
    const error = await Promise.resolve(decoder.decode(message(1), origin)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect(error).not.toBeInstanceOf(DecodeError);
    expect((error as FerryError).retriable).toBe(true);
    expect((error as Error).message).toMatch(/schemaRegistry\.url must point at a Confluent-compatible API/);
  });

  it('dead-letters a message whose schema id the right registry does not hold', async () => {
    const decoder = new AvroEnvelopeDecoder({ url: `${stack.registryUrl}/apis/ccompat/v7` });
    const error = await Promise.resolve(decoder.decode(message(2_000_000_000), origin)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as FerryError).retriable).toBe(false);
    expect((error as Error).message).toMatch(/schema id 2000000000 is not in the registry/);
  });
});
