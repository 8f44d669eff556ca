import { FerryError, SinkWriteError, describe } from '../../core/errors';

/**
 * What a failed DynamoDB request means. This is the one place that decides it (a failed
 * version condition is not an error: the writer reads the item it lost to, see staleOrRefused).
 * "retry" obeys a mapping's retry limit; "systemic" is retried until an operator acts, whatever
 * the limit, because every change would fail alike and a limit would dead-letter them all:
 *
 * | the error                                                         | outcome        | why                                              |
 * | ----------------------------------------------------------------- | -------------- | ------------------------------------------------ |
 * | a ferry error (e.g. ItemError from preparing the item)            | its own flag   | decided where it was raised                      |
 * | throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded) | retry | capacity comes back                       |
 * | HTTP 5xx                                                          | retry          | the service recovers                             |
 * | a transaction cancelled by a conflict, throttling or capacity     | retry          | the other request finishes, capacity comes back  |
 * | a transaction cancelled by a ValidationError                      | as the ValidationException of the same message | |
 * | TransactionConflict, TransactionInProgress                        | retry          | the other request finishes                       |
 * | ValidationException about the table's key schema                  | systemic       | every item fails alike: the mapping's key or the table is wrong, an operator must fix it |
 * | ValidationException, ItemCollectionSizeLimitExceeded, Serialization | dead letter  | about this item: the same request fails again    |
 * | any other answer from the service (missing table, access denied, bad credentials, unknown 4xx) | systemic | not about the item: dead-lettering would skip every change |
 * | no answer: connection refused/reset, timeouts, DNS                | retry          | the network recovers                             |
 * | credentials that could not be loaded                              | systemic       | the provider (IMDS, SSO, files) may recover      |
 * | anything else raised before a request left the process            | dead letter    | deterministic: retrying repeats it               |
 */
const itemErrors = new Set([
  'ValidationException',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
]);
/** Messages of a ValidationException that every item of a mapping would get. */
const keySchemaMismatch =
  /key element does not match the schema|Type mismatch for key|required keys was not given|Missing the key/i;
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const networkNames = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);
const credentialNames = new Set(['CredentialsProviderError', 'TokenProviderError', 'ExpiredTokenException']);

const transactionConflicts = new Set(['TransactionConflictException', 'TransactionInProgressException']);

interface AwsLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: Array<{ Code?: string; Message?: string }>;
}

export const isConditionFailure = (err: unknown) => (err as AwsLike)?.name === 'ConditionalCheckFailedException';

export function isThrottle(err: unknown): boolean {
  return /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test((err as AwsLike)?.name ?? '');
}

/** Applies the table above to an error from a request to `table`. */
export function classifyDynamoDbError(err: unknown, table: string): SinkWriteError {
  if (err instanceof SinkWriteError) return err;
  const fail = (retriable: boolean | 'systemic', hint = '') =>
    new SinkWriteError(`DynamoDB request to ${table} failed: ${describe(err)}${hint}`, {
      retriable: retriable === true,
      systemic: retriable === 'systemic',
      cause: err,
    });
  if (err instanceof FerryError) return fail(err.systemic ? 'systemic' : err.retriable);
  const { name = '', code = '', $metadata, CancellationReasons } = (err ?? {}) as AwsLike;
  let { message = '' } = (err ?? {}) as AwsLike;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) {
    if (isThrottle(err) || status >= 500 || transactionConflicts.has(name)) return fail(true);
    let validation = name === 'ValidationException';
    if (name === 'TransactionCanceledException') {
      const reasons = CancellationReasons ?? [];
      const invalid = reasons.find((r) => r.Code === 'ValidationError');
      if (invalid) [validation, message] = [true, invalid.Message ?? ''];
      else if (reasons.some((r) => r.Code === 'ItemCollectionSizeLimitExceeded')) return fail(false);
      else return fail(true);
    }
    if (validation && keySchemaMismatch.test(message))
      return fail(
        'systemic',
        ` (the mapping's key does not match table ${table}'s key schema: fix target.partitionKey/sortKey or the table)`,
      );
    if (validation || itemErrors.has(name)) return fail(false);
    return fail('systemic', name === 'ResourceNotFoundException' ? ` (does table ${table} exist?)` : '');
  }
  if (networkCodes.has(code) || networkNames.has(name)) return fail(true, ' (DynamoDB unreachable)');
  if (credentialNames.has(name)) return fail('systemic', ' (AWS credentials could not be loaded)');
  return fail(false, ' (raised before the request was sent: retrying cannot help)');
}
