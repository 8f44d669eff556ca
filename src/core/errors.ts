/**
 * What a failure means is decided once, where it enters ferry, by turning it into a FerryError
 * whose `retriable` says whether trying again can succeed; retry.ts retries nothing else. A
 * retriable error is also `systemic` when every change would fail alike until an operator acts
 * (marked * below): a mapping's retry limit does not apply to it.
 *
 * | where                                   | retried (the partition blocks, loudly)                      | not retried                                  |
 * | --------------------------------------- | ----------------------------------------------------------- | -------------------------------------------- |
 * | DynamoDB (sink/dynamodb/errors.ts)      | throttling, outages, network; a missing table*, denied      | a refused item: a dead letter                |
 * |                                         | access*, credentials*, a key schema or version every item   |                                              |
 * |                                         | would fail on*                                              |                                              |
 * | the schema registry (avro-decoder.ts)   | unreachable, or a URL that is not a registry                | a schema id the registry lacks: a dead letter |
 * | the dead-letter topic (dead-letters.ts) | every failure: a letter is never dropped                    |                                              |
 * | ordering (pipeline/key-guard.ts)        | a change without a row key*: held until an operator keys the |                                              |
 * |                                         | table (retrying cannot clear it; it keeps the block loud)   |                                              |
 * | decoding and mapping                    |                                                             | DecodeError, MappingError, ItemError         |
 *
 * Anything else (a TypeError, an unknown throw) is not retried: it is a bug, not an outage.
 */
export class FerryError extends Error {
  readonly retriable: boolean;
  /**
   * Every change would fail alike until an operator acts (a missing table, a key schema the
   * mapping does not match, denied access): retried without limit, because a retry limit would
   * send every change to the dead letters.
   */
  readonly systemic: boolean;

  constructor(message: string, options: { retriable?: boolean; systemic?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.systemic = options.systemic ?? false;
    this.retriable = this.systemic || (options.retriable ?? false);
  }
}

/** Bad configuration, a bad CLI argument or a mapping that fails validation. */
export class ConfigError extends FerryError {}

/** An operator action that would be unsafe now (e.g. moving offsets under running workers). */
export class RefusedError extends FerryError {}

/** A message that can never be decoded. */
export class DecodeError extends FerryError {}

/** The user's mapping threw or produced something invalid for this event. */
export class MappingError extends FerryError {}

/** An item DynamoDB cannot store (a number out of range, an empty set, over 400 KB): never retried. */
export class ItemError extends FerryError {}

/**
 * A change whose order against its row's other changes cannot be known (no Kafka key): never
 * written, never dead-lettered; it holds its partition until an operator gives the table a key.
 */
export class UnorderedChangeError extends FerryError {
  constructor(message: string) {
    super(message, { systemic: true });
  }
}

/** A write to the sink failed; retriable for throttling and outages, not for invalid items. */
export class SinkWriteError extends FerryError {}

/** Retries gave up: carries the count, the time spent and the last cause. */
export class RetriesExhaustedError extends FerryError {
  constructor(
    readonly attempts: number,
    readonly elapsedMs: number,
    cause: unknown,
  ) {
    super(`gave up after ${attempts} attempts in ${elapsedMs} ms: ${describe(cause)}`, { cause });
  }
}

const programmingErrors = [TypeError, RangeError, ReferenceError, SyntaxError];

/** A bug in ferry or in the code it runs, not a condition that may clear. */
export const isProgrammingError = (err: unknown) => programmingErrors.some((type) => err instanceof type);

/** A retriable error no retry limit applies to (see FerryError.systemic). */
export const isSystemic = (err: unknown) => err instanceof FerryError && err.systemic;

/** Only errors that say so are retried; programming errors never are. */
export function isRetriable(err: unknown): boolean {
  if (isProgrammingError(err)) return false;
  return err instanceof FerryError && err.retriable;
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
