import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';
import fc from 'fast-check';
import { LeanDynamoDb, RefreshingCredentials, endpointOf, jsonBody } from '../../src/sink/dynamodb/lean-client';
import { classifyDynamoDbError, isConditionFailure } from '../../src/sink/dynamodb/errors';
import { SigV4Signer } from '../../src/sink/dynamodb/sigv4';

describe('sink > dynamodb > SigV4', () => {
  it('signs exactly as aws4 does, for any body, region, time and credentials', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('us-east-1', 'eu-west-3', 'cn-north-1', 'us-gov-west-1'),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }),
        fc.option(fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim() === t && !/\s\s/.test(t))),
        (body, region, now, sessionToken) => {
          const credentials = {
            accessKeyId: 'AKIDEXAMPLE',
            secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
            ...(sessionToken ? { sessionToken } : {}),
          };
          const host = `dynamodb.${region}.amazonaws.com`;
          const target = 'DynamoDB_20120810.PutItem';
          const ours = new SigV4Signer(region).sign(host, target, body, credentials, now.getTime());
          const theirs = new aws4.RequestSigner(
            {
              host,
              method: 'POST',
              path: '/',
              service: 'dynamodb',
              region,
              body,
              headers: {
                'content-type': 'application/x-amz-json-1.0',
                'x-amz-target': target,
                'x-amz-date': ours['x-amz-date'] as string,
                ...(sessionToken ? { 'x-amz-security-token': sessionToken } : {}),
              },
              // aws4 adds and signs content-length unless told not to; ferry sends it unsigned.
              doNotModifyHeaders: true,
            },
            credentials,
          );
          theirs.datetime = ours['x-amz-date'];
          theirs.sign();
          expect(ours.authorization).toBe(theirs.request.headers?.Authorization);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sink > dynamodb > request bodies', () => {
  // Attribute values nested as DynamoDB's are, with bytes of either kind, maps with keys named B or BS, and strings that read like bytes.
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 6 }),
    fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)),
  );
  const text = fc.oneof(fc.string(), fc.constantFrom('"B":{', '\\"B\\":{"0":1}', '"BS":[{', '{"type":"Buffer"'));
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text.map((S) => ({ S })),
      fc.constant({ N: '1.5' }),
      bytes.map((B) => ({ B })),
      fc.array(bytes, { minLength: 1, maxLength: 3 }).map((BS) => ({ BS })),
      fc.array(text, { minLength: 1, maxLength: 3 }).map((SS) => ({ SS })),
      fc.constant({ NULL: true }),
      fc.dictionary(fc.oneof(text, fc.constantFrom('B', 'BS')), tie('value'), { maxKeys: 3 }).map((M) => ({ M })),
      fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L })),
    ),
  }));
  /** The oracle: every byte array in base64, found by walking the input, then serialized. */
  const base64ed = (v: unknown): unknown =>
    v instanceof Uint8Array
      ? Buffer.from(v).toString('base64')
      : Array.isArray(v)
        ? v.map(base64ed)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, base64ed(x)]))
          : v;

  it('serializes any item as the protocol wants it: bytes in base64, everything else as it is', () => {
    fc.assert(
      fc.property(fc.dictionary(text, value, { maxKeys: 4 }), (attributes) => {
        const input = {
          TableName: 't',
          Item: attributes,
          ExpressionAttributeValues: { ':v': attributes.x ?? { S: 'x' } },
        };
        expect(JSON.parse(jsonBody(input))).toEqual(JSON.parse(JSON.stringify(base64ed(input))));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sink > dynamodb > lean client', () => {
  let server: Server;
  let port: number;
  let answer: (req: IncomingMessage, body: string) => { status: number; body: string };
  const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        const a = answer(req, body);
        res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0' }).end(a.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (seen.length = 0));

  const client = () =>
    new LeanDynamoDb(
      { region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, fips: false, requestTimeoutMs: 2000 },
      async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' }),
    );

  it('posts the JSON protocol, signed, binary values in base64', async () => {
    answer = () => ({ status: 200, body: '{}' });
    const c = client();
    await c.putItem({
      TableName: 't',
      Item: { pk: { S: 'a' }, blob: { B: new Uint8Array([1, 2, 255]) }, buf: { B: Buffer.from('hi') } },
    });
    c.destroy();
    expect(seen[0]?.headers['x-amz-target']).toBe('DynamoDB_20120810.PutItem');
    expect(seen[0]?.headers['x-amz-security-token']).toBe('token');
    expect(seen[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(seen[0]?.body as string)).toEqual({
      TableName: 't',
      Item: { pk: { S: 'a' }, blob: { B: 'AQL/' }, buf: { B: 'aGk=' } },
    });
  });

  it('throws errors shaped as the SDK does, so that they classify the same', async () => {
    const cases: Array<[number, object | string, string, boolean]> = [
      [
        400,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'failed',
          Item: { v: { S: 'x' } },
        },
        'ConditionalCheckFailedException',
        false,
      ],
      [
        400,
        { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' },
        'ProvisionedThroughputExceededException',
        true,
      ],
      [
        400,
        {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: 'Item size has exceeded the maximum allowed size',
        },
        'ValidationException',
        false,
      ],
      [
        400,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          message: 'Requested resource not found',
        },
        'ResourceNotFoundException',
        true,
      ],
      [
        500,
        { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'oops' },
        'InternalServerError',
        true,
      ],
      [503, '<html>Service Unavailable</html>', 'HTTP503', true],
    ];
    const c = client();
    for (const [status, body, name, retriable] of cases) {
      answer = () => ({ status, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const err = (await c
        .deleteItem({ TableName: 't', Key: { pk: { S: 'a' } } })
        .catch((e: unknown) => e)) as Error & {
        $metadata: { httpStatusCode: number };
        Item?: unknown;
      };
      expect([err.name, err.$metadata.httpStatusCode]).toEqual([name, status]);
      if (name === 'ConditionalCheckFailedException') {
        // The writer reads the item it lost to; a condition failure is never classified.
        expect(isConditionFailure(err)).toBe(true);
        expect(err.Item).toEqual({ v: { S: 'x' } });
      } else expect(classifyDynamoDbError(err, 't').retriable).toBe(retriable);
    }
    answer = () => ({
      status: 400,
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { v: { S: 'y' } } }],
      }),
    });
    const cancelled = (await c.transactWriteItems({ TransactItems: [] }).catch((e: unknown) => e)) as {
      name: string;
      message: string;
      CancellationReasons: unknown[];
    };
    expect(cancelled).toMatchObject({ name: 'TransactionCanceledException', message: 'Transaction cancelled' });
    expect(cancelled.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Item: { v: { S: 'y' } } },
    ]);
    c.destroy();
  });

  it("reads a batch's answer: bytes handed back unprocessed or read come back as bytes; a body not JSON is held", async () => {
    const c = client();
    answer = () => ({
      status: 200,
      body: JSON.stringify({
        UnprocessedItems: {
          t: [{ PutRequest: { Item: { pk: { B: 'AQL/' } } } }, { DeleteRequest: { Key: { pk: { S: 'a' } } } }],
        },
      }),
    });
    const written = await c.batchWriteItem({ RequestItems: { t: [{ PutRequest: { Item: { pk: { S: 'x' } } } }] } });
    expect(written.UnprocessedItems).toEqual({
      t: [
        { PutRequest: { Item: { pk: { B: new Uint8Array([1, 2, 255]) } } } },
        { DeleteRequest: { Key: { pk: { S: 'a' } } } },
      ],
    });
    answer = () => ({
      status: 200,
      body: JSON.stringify({
        Responses: { t: [{ pk: { B: 'AQL/' }, v: { L: [{ B: 'aGk=' }] } }] },
        UnprocessedKeys: { t: { Keys: [{ pk: { B: 'aGk=' } }], ConsistentRead: true } },
      }),
    });
    expect(await c.batchGetItem({ RequestItems: { t: { Keys: [{ pk: { B: new Uint8Array([1]) } }] } } })).toEqual({
      Responses: {
        t: [{ pk: { B: new Uint8Array([1, 2, 255]) }, v: { L: [{ B: new Uint8Array(Buffer.from('hi')) }] } }],
      },
      UnprocessedKeys: { t: { Keys: [{ pk: { B: new Uint8Array(Buffer.from('hi')) } }], ConsistentRead: true } },
    });
    // A 200 that is not DynamoDB's answer (something in between): not about the items, so not dead-lettered.
    answer = () => ({ status: 200, body: '<html>captive portal</html>' });
    const err = await c.batchGetItem({ RequestItems: { t: { Keys: [] } } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UnreadableAnswer', message: expect.stringContaining('captive portal') });
    expect(classifyDynamoDbError(err, 't')).toMatchObject({ systemic: true });
    c.destroy();
  });

  it('reaches the regional endpoint, its FIPS variant, China, or the one configured', () => {
    expect(endpointOf({ region: 'eu-west-1', fips: false }).href).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    expect(endpointOf({ region: 'us-east-1', fips: true }).href).toBe('https://dynamodb-fips.us-east-1.amazonaws.com/');
    expect(endpointOf({ region: 'cn-north-1', fips: false }).href).toBe(
      'https://dynamodb.cn-north-1.amazonaws.com.cn/',
    );
    expect(endpointOf({ region: 'x', fips: true, endpoint: 'http://127.0.0.1:8000' }).href).toBe(
      'http://127.0.0.1:8000/',
    );
  });

  it('keeps credentials until 5 minutes before they expire, fetching once at a time', async () => {
    let now = 0;
    let fetches = 0;
    const credentials = new RefreshingCredentials(
      async () => {
        fetches++;
        return { accessKeyId: `k${fetches}`, secretAccessKey: 's', expiration: new Date(now + 3_600_000) };
      },
      () => now,
    );
    const provider = () => credentials.now() ?? credentials.fetch();
    expect(credentials.now()).toBeUndefined();
    expect((await Promise.all([provider(), provider(), provider()])).map((c) => c.accessKeyId)).toEqual([
      'k1',
      'k1',
      'k1',
    ]);
    now = 3_600_000 - 6 * 60_000;
    expect(credentials.now()?.accessKeyId).toBe('k1');
    now = 3_600_000 - 4 * 60_000;
    expect(credentials.now()).toBeUndefined();
    expect((await provider()).accessKeyId).toBe('k2');
    expect(fetches).toBe(2);
  });
});
