/** Base of every error ferry raises; `retriable` says whether trying again can succeed. */
export class FerryError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
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

/** Only errors that say so are retried; programming errors never are. */
export function isRetriable(err: unknown): boolean {
  if (programmingErrors.some((type) => err instanceof type)) return false;
  return err instanceof FerryError && err.retriable;
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
