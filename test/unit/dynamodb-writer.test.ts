import type { WriteIntent } from '../../src/core/write-intent';
import { FerryEvents } from '../../src/core/events';
import { ItemError, SinkWriteError } from '../../src/core/errors';
import { changes } from '../../src/mapping/testing';
import { type DynamoDbPort, DynamoDbWriter } from '../../src/sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError } from '../../src/sink/dynamodb/errors';

const event = changes.insert('db.t', { id: 1 });
const put = (pk: string): WriteIntent => ({
  kind: 'put',
  table: 'T',
  key: { pk },
  item: { pk },
  attributes: { pk: { S: pk } },
  event,
});
/** An error as the SDK raises it once the service has answered. */
const awsError = (name: string, status = 400, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

/** A narrow fake of the DynamoDB client: answers each send from a script of outcomes per key. */
function scriptedClient(script: Record<string, Array<Error | 'ok'>>) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client: DynamoDbPort = {
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const pk = ((command.input.Item ?? command.input.Key) as { pk: { S: string } }).pk.S;
      const next = script[pk]?.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return {};
    }) as DynamoDbPort['send'],
  };
  return { client, sent };
}

describe('sink > dynamodb > writer', () => {
  it('sends the prepared item with a version guard and reports stale writes without failing', async () => {
    const { client, sent } = scriptedClient({ b: [awsError('ConditionalCheckFailedException')] });
    const result = await new DynamoDbWriter(client, { concurrency: 4, retry: fast }).write([put('a'), put('b')]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['a']);
    expect(result.stale.map((i) => i.key.pk)).toEqual(['b']);
    expect(sent[0]).toMatchObject({
      name: 'PutItemCommand',
      input: {
        ConditionExpression: 'attribute_not_exists(#v) OR #v <= :v',
        ExpressionAttributeNames: { '#v': '_ferry_version' },
        ExpressionAttributeValues: { ':v': { S: event.position.version } },
        Item: { pk: { S: 'a' }, _ferry_version: { S: event.position.version } },
      },
    });
  });

  it('retries throttling and outages until written, retrying only what failed', async () => {
    const events = new FerryEvents();
    const throttles: string[] = [];
    events.on('sink.throttled', ({ table }) => throttles.push(table));
    const { client, sent } = scriptedClient({
      a: [
        awsError('ProvisionedThroughputExceededException'),
        Object.assign(new Error('refused'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }),
      ],
    });
    const result = await new DynamoDbWriter(client, { concurrency: 2, retry: fast }, events).write([
      put('a'),
      put('b'),
    ]);
    expect(result.written.map((i) => i.key.pk).sort()).toEqual(['a', 'b']);
    expect(sent.map((s) => (s.input.Item as { pk: { S: string } }).pk.S)).toEqual(['a', 'b', 'a', 'a']);
    expect(throttles).toEqual(['T']);
  });

  it('fails an invalid item for good so it can be dead-lettered, and keeps the rest', async () => {
    const { client } = scriptedClient({ a: [awsError('ValidationException')] });
    const result = await new DynamoDbWriter(client, { concurrency: 2, retry: fast }).write([put('a'), put('b')]);
    expect(result.failed.map((f) => [f.intent.key.pk, f.error.retriable])).toEqual([['a', false]]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['b']);
  });

  it('never retries an error raised before the request left the process', async () => {
    // What lib-dynamodb's marshaller throws for a number past 2^53: the partition used to stall on it.
    const { client, sent } = scriptedClient({
      a: [new Error('Number 1e+300 is greater than Number.MAX_SAFE_INTEGER. Use NumberValue.')],
    });
    const result = await new DynamoDbWriter(client, { concurrency: 1, retry: fast }).write([put('a')]);
    expect(result.failed.map((f) => f.error.retriable)).toEqual([false]);
    expect(sent).toHaveLength(1);
  });

  it('blocks on a missing table instead of dead-lettering, naming the item, until told to stop', async () => {
    const { client } = scriptedClient({ a: Array.from({ length: 100 }, () => awsError('ResourceNotFoundException')) });
    let checks = 0;
    const blockedOn: unknown[] = [];
    const writing = new DynamoDbWriter(client, { concurrency: 1, retry: fast }).write([put('a')], {
      shouldStop: () => ++checks > 5,
      onRetry: (_err, intent) => blockedOn.push(intent.key),
    });
    await expect(writing).rejects.toThrow('retry abandoned');
    // Asked before and after each backoff: three rounds of retries, then the sixth answer stops it.
    expect(checks).toBe(6);
    expect(blockedOn).toHaveLength(3);
    expect(blockedOn[0]).toEqual({ pk: 'a' });
  });
});

describe('sink > dynamodb > error classification', () => {
  const network = (code: string) => Object.assign(new Error(code), { code, $metadata: { attempts: 1 } });
  const cases: Array<[string, unknown, 'stale' | 'retry' | 'dead letter', RegExp?]> = [
    ['a failed version guard', awsError('ConditionalCheckFailedException'), 'stale'],
    ['throttling', awsError('ProvisionedThroughputExceededException'), 'retry'],
    ['throttling by name', awsError('ThrottlingException'), 'retry'],
    ['request limit', awsError('RequestLimitExceeded'), 'retry'],
    ['a 5xx', awsError('InternalServerError', 500), 'retry'],
    ['an unknown 5xx', awsError('SomethingNew', 503), 'retry'],
    [
      'a key that does not match the table',
      awsError('ValidationException', 400, 'The provided key element does not match the schema'),
      'retry',
      /key schema/,
    ],
    [
      'a key of the wrong type',
      awsError('ValidationException', 400, 'One or more parameter values were invalid: Type mismatch for key'),
      'retry',
      /key schema/,
    ],
    ['a number the service refuses', awsError('ValidationException', 400, 'Number overflow'), 'dead letter'],
    ['an item collection over 10 GB', awsError('ItemCollectionSizeLimitExceededException'), 'dead letter'],
    ['a missing table', awsError('ResourceNotFoundException'), 'retry', /does table T exist/],
    ['access denied', awsError('AccessDeniedException'), 'retry'],
    ['bad credentials', awsError('UnrecognizedClientException'), 'retry'],
    ['an unknown 4xx', awsError('SomethingNew', 400), 'retry'],
    ['connection refused', network('ECONNREFUSED'), 'retry', /unreachable/],
    ['connection reset', network('ECONNRESET'), 'retry', /unreachable/],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'retry', /unreachable/],
    [
      'credentials that cannot be loaded',
      Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }),
      'retry',
      /credentials/,
    ],
    ['a marshalling error', new Error('Use NumberValue'), 'dead letter', /before the request/],
    ['a programming error', new TypeError('x is not a function'), 'dead letter'],
    ['an item error from preparing the item', new ItemError('too big'), 'dead letter'],
    ['something that is not an Error', 'boom', 'dead letter'],
  ];
  // Every row has four entries: jest passes a done callback in place of a missing last one.
  it.each(cases.map(([what, error, expected, message]) => [what, error, expected, message ?? null] as const))(
    '%s: %s',
    (_what, error, expected, message) => {
      const outcome = classifyDynamoDbError(error, 'T');
      const got = outcome === 'stale' ? 'stale' : outcome.retriable ? 'retry' : 'dead letter';
      expect(got).toBe(expected);
      if (outcome !== 'stale') {
        expect(outcome).toBeInstanceOf(SinkWriteError);
        if (message) expect(outcome.message).toMatch(message);
      }
    },
  );
});
