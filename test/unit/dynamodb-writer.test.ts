import type { WriteIntent } from '../../src/core/write-intent';
import { FerryEvents } from '../../src/core/events';
import { ItemError, SinkWriteError } from '../../src/core/errors';
import { formatVersion } from '../../src/core/version';
import { changes } from '../../src/mapping/testing';
import { type DynamoDbPort, DynamoDbWriter, type WriterOptions } from '../../src/sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError } from '../../src/sink/dynamodb/errors';
import { sdkWrites } from '../../src/sink/dynamodb/lean-client';

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
const options = (concurrency: number): WriterOptions => ({
  concurrency,
  deletes: { table: 'ferry-deletes', rememberDays: 30 },
  retry: fast,
});
type Sent = { Item?: { pk: { S: string } }; Key?: { pk: { S: string } }; TransactItems?: Array<{ Put?: Sent }> };
const pkOf = (input: Sent): string =>
  (input.Item ?? input.Key ?? (input.TransactItems?.[0]?.Put as Sent).Item)?.pk.S as string;

/** A narrow fake of the DynamoDB client: answers each send from a script of outcomes per key. */
function scriptedClient(script: Record<string, Array<Error | 'ok'>>) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client: DynamoDbPort = {
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const pk = pkOf(command.input as Sent);
      const next = script[pk]?.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return {};
    }) as DynamoDbPort['send'],
  };
  return { client, sent };
}

describe('sink > dynamodb > writer', () => {
  it('creates an item with a version guard, in one transaction with a check for a remembered delete', async () => {
    const newer = { _ferry_version: { S: formatVersion(2, 0, 0, 2, event.position.committedAtMs) } };
    const cancelled = Object.assign(awsError('TransactionCanceledException'), {
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: newer }],
    });
    const { client, sent } = scriptedClient({ b: [cancelled] });
    const result = await new DynamoDbWriter(sdkWrites(client), options(4)).write([put('a'), put('b')]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['a']);
    expect(result.stale.map((i) => i.key.pk)).toEqual(['b']);
    const guard = {
      ExpressionAttributeNames: { '#v': '_ferry_version' },
      ExpressionAttributeValues: { ':v': { S: event.position.version }, ':f': { S: 'v1:' } },
    };
    expect(sent[0]).toMatchObject({
      name: 'TransactWriteItemsCommand',
      input: {
        TransactItems: [
          {
            Put: {
              TableName: 'T',
              ConditionExpression: 'attribute_not_exists(#v) OR (begins_with(#v, :f) AND #v <= :v)',
              Item: { pk: { S: 'a' }, _ferry_version: { S: event.position.version } },
              ...guard,
            },
          },
          {
            ConditionCheck: {
              TableName: 'ferry-deletes',
              ConditionExpression: 'attribute_not_exists(#v) OR (begins_with(#v, :f) AND #v < :v)',
              ...guard,
            },
          },
        ],
      },
    });
  });

  it('refuses, blocking, to write over a version of another format', async () => {
    const cancelled = Object.assign(awsError('TransactionCanceledException'), {
      CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { _ferry_version: { S: '0000000001-9' } } }],
    });
    const { client } = scriptedClient({ a: [cancelled, cancelled, cancelled] });
    let checks = 0;
    const errors: string[] = [];
    const writing = new DynamoDbWriter(sdkWrites(client), options(1)).write([put('a')], {
      shouldStop: () => ++checks > 2,
      onRetry: (err) => errors.push((err as Error).message),
    });
    await expect(writing).rejects.toThrow('retry abandoned');
    expect(errors[0]).toMatch(/not in format v1:.*rebuild/);
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
    const result = await new DynamoDbWriter(sdkWrites(client), options(2), events).write([put('a'), put('b')]);
    expect(result.written.map((i) => i.key.pk).sort()).toEqual(['a', 'b']);
    expect(sent.map((s) => pkOf(s.input as Sent))).toEqual(['a', 'b', 'a', 'a']);
    expect(throttles).toEqual(['T']);
  });

  it('fails an invalid item for good so it can be dead-lettered, and keeps the rest', async () => {
    const { client } = scriptedClient({ a: [awsError('ValidationException')] });
    const result = await new DynamoDbWriter(sdkWrites(client), options(2)).write([put('a'), put('b')]);
    expect(result.failed.map((f) => [f.intent.key.pk, f.error.retriable])).toEqual([['a', false]]);
    expect(result.written.map((i) => i.key.pk)).toEqual(['b']);
  });

  it('never retries an error raised before the request left the process', async () => {
    // What lib-dynamodb's marshaller throws for a number past 2^53: the partition used to stall on it.
    const { client, sent } = scriptedClient({
      a: [new Error('Number 1e+300 is greater than Number.MAX_SAFE_INTEGER. Use NumberValue.')],
    });
    const result = await new DynamoDbWriter(sdkWrites(client), options(1)).write([put('a')]);
    expect(result.failed.map((f) => f.error.retriable)).toEqual([false]);
    expect(sent).toHaveLength(1);
  });

  it("with the mapping's retry limit, fails what still fails after maxAttempts for the dead letters", async () => {
    const events = new FerryEvents();
    const exhausted: Array<{ table: string; items: number }> = [];
    events.on('sink.retries-exhausted', (e) => exhausted.push(e));
    const { client, sent } = scriptedClient({
      a: Array.from({ length: 10 }, () => awsError('ProvisionedThroughputExceededException')),
      b: [awsError('ProvisionedThroughputExceededException')],
    });
    const limited = { ...options(2), retry: { ...fast, maxAttempts: 3 } };
    const result = await new DynamoDbWriter(sdkWrites(client), limited, events).write([put('a'), put('b'), put('c')]);
    expect(result.written.map((i) => i.key.pk).sort()).toEqual(['b', 'c']);
    expect(result.failed.map((f) => [f.intent.key.pk, f.error.name, f.error.retriable])).toEqual([
      ['a', 'RetriesExhaustedError', false],
    ]);
    expect(result.failed[0]?.error.message).toMatch(/gave up after 3 attempts .*ProvisionedThroughputExceeded/);
    expect(sent.filter((s) => pkOf(s.input as Sent) === 'a')).toHaveLength(3);
    expect(exhausted).toEqual([{ table: 'T', items: 1 }]);
  });

  it('keeps a missing table blocking under a retry limit: it would dead-letter every change', async () => {
    const { client, sent } = scriptedClient({
      a: Array.from({ length: 20 }, () => awsError('ResourceNotFoundException')),
      b: Array.from({ length: 20 }, () => awsError('ProvisionedThroughputExceededException')),
    });
    let checks = 0;
    const limited = { ...options(2), retry: { ...fast, maxAttempts: 3 } };
    const writing = new DynamoDbWriter(sdkWrites(client), limited).write([put('a'), put('b')], {
      shouldStop: () => ++checks > 20,
    });
    await expect(writing).rejects.toThrow('retry abandoned');
    expect(sent.filter((s) => pkOf(s.input as Sent) === 'a').length).toBeGreaterThan(3);
  });

  it('blocks on a missing table instead of dead-lettering, naming the item, until told to stop', async () => {
    const { client } = scriptedClient({ a: Array.from({ length: 100 }, () => awsError('ResourceNotFoundException')) });
    let checks = 0;
    const blockedOn: unknown[] = [];
    const writing = new DynamoDbWriter(sdkWrites(client), options(1)).write([put('a')], {
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
  const cancelled = (...reasons: Array<{ Code: string; Message?: string }>) =>
    Object.assign(awsError('TransactionCanceledException'), { CancellationReasons: reasons });
  const cases: Array<[string, unknown, 'retry' | 'dead letter', RegExp?]> = [
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
    ['a transaction conflict', cancelled({ Code: 'None' }, { Code: 'TransactionConflict' }), 'retry'],
    ['a throttled transaction', cancelled({ Code: 'ThrottlingError' }, { Code: 'None' }), 'retry'],
    ['a conflict with a running transaction', awsError('TransactionConflictException'), 'retry'],
    [
      'a transaction with a key that does not match the table',
      cancelled({ Code: 'ValidationError', Message: 'The provided key element does not match the schema' }),
      'retry',
      /key schema/,
    ],
    [
      'a transaction with an item the service refuses',
      cancelled({ Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' }),
      'dead letter',
    ],
    [
      'a transaction over an item collection of 10 GB',
      cancelled({ Code: 'ItemCollectionSizeLimitExceeded' }, { Code: 'None' }),
      'dead letter',
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
      expect(outcome.retriable ? 'retry' : 'dead letter').toBe(expected);
      expect(outcome).toBeInstanceOf(SinkWriteError);
      if (message) expect(outcome.message).toMatch(message);
    },
  );
});
