import { SinkWriteError, describe } from '../../core/errors';

/** Errors about one item: retrying cannot help, so the change goes to the dead letters. */
const itemErrors = new Set([
  'ValidationException',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
]);
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

export const isConditionFailure = (err: unknown) =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException';

export function isThrottle(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name);
}

/**
 * Decides retriability at the adapter edge. Only an error about the item itself is final;
 * throttling, outages, a missing table or missing permissions block the partition until an
 * operator or the service fixes them, because dead-lettering every change would skip them.
 */
export function classifyDynamoDbError(err: unknown, table: string): SinkWriteError {
  const name = (err as { name?: string })?.name ?? '';
  const code = (err as { code?: string })?.code ?? '';
  const programming = err instanceof TypeError || err instanceof RangeError;
  const retriable = !programming && !itemErrors.has(name);
  const hint = networkCodes.has(code)
    ? ' (DynamoDB unreachable)'
    : name === 'ResourceNotFoundException'
      ? ` (does table ${table} exist?)`
      : '';
  return new SinkWriteError(`DynamoDB write to ${table} failed: ${describe(err)}${hint}`, { retriable, cause: err });
}
