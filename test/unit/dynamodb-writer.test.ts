import type { WriteIntent } from '../../src/core/write-intent';
import { FerryEvents } from '../../src/core/events';
import { changes } from '../../src/mapping/testing';
import { type DocClient, DynamoDbWriter } from '../../src/sink/dynamodb/dynamodb-writer';

const event = changes.insert('db.t', { id: 1 });
const put = (pk: string): WriteIntent => ({ kind: 'put', table: 'T', key: { pk }, item: { pk }, event });
const awsError = (name: string) => Object.assign(new Error(name), { name });
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

/** A narrow fake of the document client: answers each send from a script of outcomes per key. */
function scriptedClient(script: Record<string, Array<Error | 'ok'>>) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client: DocClient = {
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const pk = ((command.input.Item ?? command.input.Key) as { pk: string }).pk;
      const next = script[pk]?.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return {};
    }) as DocClient['send'],
  };
  return { client, sent };
}

describe('sink > dynamodb > writer', () => {
  it('writes with a version guard and reports stale writes without failing', async () => {
    const { client, sent } = scriptedClient({ b: [awsError('ConditionalCheckFailedException')] });
    const result = await new DynamoDbWriter(client, { concurrency: 4, retry: fast }).write([put('a'), put('b')]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['a']);
    expect(result.stale.map((i) => i.key.pk)).toEqual(['b']);
    expect(sent[0]?.input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#v) OR #v <= :v',
      ExpressionAttributeNames: { '#v': '_ferry_version' },
      ExpressionAttributeValues: { ':v': event.position.version },
      Item: { pk: 'a', _ferry_version: event.position.version },
    });
  });

  it('retries throttling and outages until written, retrying only what failed', async () => {
    const events = new FerryEvents();
    const throttles: string[] = [];
    events.on('sink.throttled', ({ table }) => throttles.push(table));
    const { client, sent } = scriptedClient({
      a: [
        awsError('ProvisionedThroughputExceededException'),
        Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      ],
    });
    const result = await new DynamoDbWriter(client, { concurrency: 2, retry: fast }, events).write([
      put('a'),
      put('b'),
    ]);
    expect(result.written.map((i) => i.key.pk).sort()).toEqual(['a', 'b']);
    expect(sent.map((s) => (s.input.Item as { pk: string }).pk)).toEqual(['a', 'b', 'a', 'a']);
    expect(throttles).toEqual(['T']);
  });

  it('fails an invalid item for good so it can be dead-lettered, and keeps the rest', async () => {
    const { client } = scriptedClient({ a: [awsError('ValidationException')] });
    const result = await new DynamoDbWriter(client, { concurrency: 2, retry: fast }).write([put('a'), put('b')]);
    expect(result.failed.map((f) => [f.intent.key.pk, f.error.retriable])).toEqual([['a', false]]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['b']);
  });

  it('blocks on a missing table instead of dead-lettering, until told to stop', async () => {
    const { client } = scriptedClient({ a: Array.from({ length: 100 }, () => awsError('ResourceNotFoundException')) });
    let checks = 0;
    const writing = new DynamoDbWriter(client, { concurrency: 1, retry: fast }).write([put('a')], () => ++checks > 5);
    await expect(writing).rejects.toThrow('retry abandoned');
    expect(checks).toBe(6);
  });
});
