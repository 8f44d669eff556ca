import { RetriesExhaustedError, isRetriable, isSystemic } from './errors';

export interface RetryOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * Attempts in all, including the first; Infinity retries until `shouldStop` says so. A systemic
   * failure (FerryError.systemic) is retried without limit and starts the count anew.
   */
  maxAttempts: number;
  /** Time from the first attempt after which no other is made; the last wait is cut to fit. */
  maxDurationMs: number;
  /** Called before and after each wait, e.g. to heartbeat; returning true abandons the work. */
  shouldStop?: () => boolean | Promise<boolean>;
  /** Aborting it (a stop, a revoked partition) ends a wait at once and abandons the work. */
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const defaultRetry: RetryOptions = {
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  maxAttempts: Infinity,
  maxDurationMs: Infinity,
};

export class RetryAbortedError extends Error {
  constructor(cause: unknown) {
    super('retry abandoned: the work is no longer wanted', { cause });
    this.name = 'RetryAbortedError';
  }
}

/** Waits `ms`, or less if the signal aborts first. */
const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Full-jitter exponential backoff: the delay is random in [0, min(max, initial * 2^attempt)]. */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
  return Math.round(Math.random() * ceiling);
}

/** `createRetry(opts)(fn)` runs fn until it succeeds, fails with a non-retriable error, or gives up. */
export function createRetry(options: Partial<RetryOptions> = {}) {
  const opts = { ...defaultRetry, ...options };
  const sleep = opts.sleep ?? defaultSleep;
  return async function retry<T>(fn: (attempt: number) => Promise<T>): Promise<T> {
    // The limit counts a run of failures it applies to; a systemic failure starts the run anew.
    let started = Date.now();
    let counted = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!isRetriable(err)) throw err;
        let elapsedMs = Date.now() - started;
        if (isSystemic(err)) [started, counted, elapsedMs] = [Date.now(), 0, 0];
        else if (++counted >= opts.maxAttempts || elapsedMs >= opts.maxDurationMs)
          throw new RetriesExhaustedError(counted, elapsedMs, err);
        const stop = async () => opts.signal?.aborted || (await opts.shouldStop?.());
        if (await stop()) throw new RetryAbortedError(err);
        const delayMs = Math.min(backoffDelay(attempt, opts), opts.maxDurationMs - elapsedMs);
        opts.onRetry?.(err, attempt, delayMs);
        await sleep(delayMs, opts.signal);
        // The wait can outlast a session timeout: ask again before writing as a possibly evicted member.
        if (await stop()) throw new RetryAbortedError(err);
      }
    }
  };
}
