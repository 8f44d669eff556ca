import http from 'node:http';
import https from 'node:https';
import type {
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  DeleteItemCommandInput,
  DynamoDBClient,
  PutItemCommandInput,
  TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { DynamoDbConfig } from '../../config/config';
import { type AwsCredentials, SigV4Signer } from './sigv4';

/** The three calls the writer makes; failures throw errors shaped like the SDK's (see errors.ts). */
export interface DynamoDbWrites {
  putItem(input: PutItemCommandInput): Promise<void>;
  deleteItem(input: DeleteItemCommandInput): Promise<void>;
  transactWriteItems(input: TransactWriteItemsCommandInput): Promise<void>;
}

/** The same calls through the SDK: what the lean client is measured and contract-tested against. */
export const sdkWrites = (client: Pick<DynamoDBClient, 'send'>): DynamoDbWrites => ({
  putItem: async (input) => void (await client.send(new PutItemCommand(input))),
  deleteItem: async (input) => void (await client.send(new DeleteItemCommand(input))),
  transactWriteItems: async (input) => void (await client.send(new TransactWriteItemsCommand(input))),
});

/** What a rebuild's batch writer sends, and the parts of the answers it reads. */
export interface DynamoDbBatches {
  batchWriteItem(input: BatchWriteItemCommandInput): Promise<Pick<BatchWriteItemCommandOutput, 'UnprocessedItems'>>;
  batchGetItem(
    input: BatchGetItemCommandInput,
  ): Promise<Pick<BatchGetItemCommandOutput, 'Responses' | 'UnprocessedKeys'>>;
}

/** The same batches through the SDK: what the lean client is contract-tested against. */
export const sdkBatches = (client: Pick<DynamoDBClient, 'send'>): DynamoDbBatches => ({
  batchWriteItem: async (input) => {
    const { UnprocessedItems } = await client.send(new BatchWriteItemCommand(input));
    return { UnprocessedItems };
  },
  batchGetItem: async (input) => {
    const { Responses, UnprocessedKeys } = await client.send(new BatchGetItemCommand(input));
    return { Responses, UnprocessedKeys };
  },
});

/** An error answer from DynamoDB, shaped as the SDK's service exceptions are. */
export class DynamoDbServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly Item?: Record<string, unknown>;
  readonly CancellationReasons?: unknown[];

  constructor(name: string, message: string, status: number, body: Record<string, unknown>) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    if (isObject(body.Item)) this.Item = binaryDecoded(body.Item);
    if (Array.isArray(body.CancellationReasons))
      this.CancellationReasons = body.CancellationReasons.map((r: unknown) =>
        isObject(r) && isObject(r.Item) ? { ...r, Item: binaryDecoded(r.Item) } : r,
      );
  }
}

/** The regional endpoint, its FIPS variant, or the configured one. */
export function endpointOf(config: Pick<DynamoDbConfig, 'region' | 'endpoint' | 'fips'>): URL {
  if (config.endpoint) return new URL(config.endpoint);
  const domain = config.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://dynamodb${config.fips ? '-fips' : ''}.${config.region}.${domain}`);
}

type CredentialProvider = () => Promise<AwsCredentials>;

/** Credentials are fetched again this long before they expire, so no request is signed with expired ones. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/** The provider's credentials, kept until they near expiry; one fetch at a time. */
export class RefreshingCredentials {
  private current?: AwsCredentials;
  private fetching?: Promise<AwsCredentials>;

  constructor(
    private readonly provider: CredentialProvider,
    private readonly clock = () => Date.now(),
  ) {}

  /** The credentials in hand when they are good for a while yet (no await on the hot path). */
  now(): AwsCredentials | undefined {
    const c = this.current;
    const expires = c?.expiration?.getTime();
    return c && (expires === undefined || expires - this.clock() > REFRESH_BEFORE_MS) ? c : undefined;
  }

  fetch(): Promise<AwsCredentials> {
    const held = this.now();
    if (held) return Promise.resolve(held);
    this.fetching ??= this.provider()
      .then((c) => (this.current = c))
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }
}

const isLocal = (url: URL) => /^(127\.0\.0\.1|localhost|\[::1\])$/.test(url.hostname);

/**
 * DynamoDB's JSON protocol over keep-alive connections, signed with SigV4: the write path
 * without the SDK's per-request machinery (endpoint resolution, middleware, schema
 * serialization, a deep copy of every input). It sends only what the writer needs and reads
 * only status and, on an error, the body. Retries stay with ferry's writer; credentials come from
 * the SDK's default chain (static ones for a local endpoint), refreshed before they expire.
 */
export class LeanDynamoDb implements DynamoDbWrites, DynamoDbBatches {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly signer: SigV4Signer;
  private readonly credentials: RefreshingCredentials;
  private readonly request: typeof http.request;
  private readonly timeoutMs: number;

  constructor(
    config: Pick<DynamoDbConfig, 'region' | 'endpoint' | 'fips' | 'requestTimeoutMs'>,
    credentials?: CredentialProvider,
  ) {
    this.url = endpointOf(config);
    const secure = this.url.protocol === 'https:';
    this.request = secure ? https.request : http.request;
    this.agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
    this.signer = new SigV4Signer(config.region);
    this.credentials = new RefreshingCredentials(
      credentials ??
        (config.endpoint && isLocal(this.url)
          ? async () => ({ accessKeyId: 'local', secretAccessKey: 'local' })
          : (defaultProvider() as CredentialProvider)),
    );
    this.timeoutMs = config.requestTimeoutMs;
  }

  putItem(input: PutItemCommandInput): Promise<void> {
    return this.call('PutItem', input);
  }

  deleteItem(input: DeleteItemCommandInput): Promise<void> {
    return this.call('DeleteItem', input);
  }

  transactWriteItems(input: TransactWriteItemsCommandInput): Promise<void> {
    return this.call('TransactWriteItems', input);
  }

  async batchWriteItem(
    input: BatchWriteItemCommandInput,
  ): Promise<Pick<BatchWriteItemCommandOutput, 'UnprocessedItems'>> {
    const answer = await this.call('BatchWriteItem', input, true);
    const unprocessed = isObject(answer.UnprocessedItems) ? answer.UnprocessedItems : {};
    return {
      UnprocessedItems: mapValues(unprocessed, (requests) => (requests as unknown[]).map(writeRequestDecoded)),
    } as Pick<BatchWriteItemCommandOutput, 'UnprocessedItems'>;
  }

  async batchGetItem(
    input: BatchGetItemCommandInput,
  ): Promise<Pick<BatchGetItemCommandOutput, 'Responses' | 'UnprocessedKeys'>> {
    const answer = await this.call('BatchGetItem', input, true);
    const responses = isObject(answer.Responses) ? answer.Responses : {};
    const unprocessed = isObject(answer.UnprocessedKeys) ? answer.UnprocessedKeys : {};
    return {
      Responses: mapValues(responses, (items) => (items as Array<Record<string, unknown>>).map(binaryDecoded)),
      UnprocessedKeys: mapValues(unprocessed, (entry) => {
        const keys = (entry as { Keys?: Array<Record<string, unknown>> }).Keys ?? [];
        return { ...(entry as object), Keys: keys.map(binaryDecoded) };
      }),
    } as Pick<BatchGetItemCommandOutput, 'Responses' | 'UnprocessedKeys'>;
  }

  /** Closes idle connections. */
  destroy(): void {
    this.agent.destroy();
  }

  private call(operation: string, input: object): Promise<void>;
  private call(operation: string, input: object, answer: true): Promise<Record<string, unknown>>;
  private call(operation: string, input: object, answer = false): Promise<unknown> {
    try {
      // No await while the credentials in hand are good: a promise less per write.
      const held = this.credentials.now();
      return held
        ? this.send(operation, input, held, answer)
        : this.credentials.fetch().then((c) => this.send(operation, input, c, answer));
    } catch (err) {
      // A body that cannot be serialized fails as a rejection, like any other failure.
      return Promise.reject(err);
    }
  }

  /** Resolves with the answer's body when `answer` is asked for (the batches), otherwise reads only the status. */
  private send(operation: string, input: object, credentials: AwsCredentials, answer: boolean): Promise<unknown> {
    const body = jsonBody(input);
    const headers = this.signer.sign(this.url.host, `DynamoDB_20120810.${operation}`, body, credentials);
    headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<unknown>((resolve, reject) => {
      const req = this.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          path: '/',
          method: 'POST',
          agent: this.agent,
          headers,
          timeout: this.timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('error', reject);
          if (status === 200 && !answer) {
            res.resume();
            res.on('end', () => resolve(undefined));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (status !== 200) return reject(serviceError(status, text));
            try {
              resolve(JSON.parse(text));
            } catch {
              // Not DynamoDB's answer (something between answered): not about the items, held until it is.
              reject(
                new DynamoDbServiceError(
                  'UnreadableAnswer',
                  `${operation} answered 200 with a body that is not JSON: ${text.slice(0, 200)}`,
                  status,
                  {},
                ),
              );
            }
          });
        },
      );
      // A request with no answer by then fails (and is retried): a half-open connection cannot stall.
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`no answer from ${this.url.host} within ${this.timeoutMs} ms`), {
            name: 'TimeoutError',
          }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * The request's JSON, binary attribute values (B, BS) in base64 as the protocol wants them. Bytes
 * serialize as objects (`"B":{...}`, `"BS":[{...}]`), which nothing else in DynamoDB's JSON does
 * but a map attribute named B or BS (a quote inside a string is escaped, so those are keys): only
 * then is it serialized again with the replacer, which costs a call per key.
 */
export function jsonBody(input: object): string {
  const plain = JSON.stringify(input);
  return plain.includes('"B":{') || plain.includes('"BS":[{') ? JSON.stringify(input, binaryAsBase64) : plain;
}

/** Binary attribute values (B, BS) travel as base64 in DynamoDB's JSON protocol. */
function binaryAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // A Buffer has been through its toJSON by now: the holder still has the bytes.
  const original = this[key];
  return original instanceof Uint8Array
    ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64')
    : value;
}

function serviceError(status: number, text: string): DynamoDbServiceError {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status decides.
  }
  const type = typeof body.__type === 'string' ? body.__type : `HTTP${status}`;
  const name = type.slice(type.lastIndexOf('#') + 1);
  const message = String(body.message ?? body.Message ?? (text.slice(0, 500) || `HTTP ${status}`));
  return new DynamoDbServiceError(name, message, status, body);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const mapValues = (record: Record<string, unknown>, f: (value: unknown) => unknown) =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));

/** An item as the SDK gives it back: binary values (base64 in the protocol) as bytes. */
function binaryDecoded(item: Record<string, unknown>): Record<string, unknown> {
  const value = (v: unknown): unknown => {
    if (!isObject(v)) return v;
    if (typeof v.B === 'string') return { B: new Uint8Array(Buffer.from(v.B, 'base64')) };
    if (Array.isArray(v.BS)) return { BS: v.BS.map((b: string) => new Uint8Array(Buffer.from(b, 'base64'))) };
    if (isObject(v.M)) return { M: binaryDecoded(v.M) };
    if (Array.isArray(v.L)) return { L: v.L.map(value) };
    return v;
  };
  return mapValues(item, value);
}

/** A write request handed back unprocessed, its bytes as bytes again (so it is sent again as it was). */
function writeRequestDecoded(request: unknown): unknown {
  if (!isObject(request)) return request;
  const put = request.PutRequest;
  const del = request.DeleteRequest;
  if (isObject(put) && isObject(put.Item)) return { PutRequest: { ...put, Item: binaryDecoded(put.Item) } };
  if (isObject(del) && isObject(del.Key)) return { DeleteRequest: { ...del, Key: binaryDecoded(del.Key) } };
  return request;
}
