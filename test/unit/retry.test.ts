import { FerryError, RetriesExhaustedError } from '../../src/core/errors';
import { backoffDelay, createRetry } from '../../src/core/retry';

const noSleep = { sleep: async () => undefined };

describe('core > retry', () => {
  it('retries retriable errors, then succeeds', async () => {
    let calls = 0;
    const value = await createRetry({ ...noSleep })(async () => {
      if (++calls < 3) throw new FerryError('busy', { retriable: true });
      return 'done';
    });
    expect([value, calls]).toEqual(['done', 3]);
  });

  it('never retries programming errors or non-retriable errors', async () => {
    let calls = 0;
    await expect(
      createRetry(noSleep)(async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow(TypeError);
    await expect(createRetry(noSleep)(async () => Promise.reject(new FerryError('bad input')))).rejects.toThrow(
      'bad input',
    );
    expect(calls).toBe(1);
  });

  it('wraps the cause with count and time when attempts run out', async () => {
    const err = await createRetry({ ...noSleep, maxAttempts: 4 })(async () => {
      throw new FerryError('down', { retriable: true });
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).attempts).toBe(4);
    expect((err as Error).message).toMatch(/gave up after 4 attempts .*FerryError: down/);
  });

  it('retries a systemic failure past the limit, and counts the limited run anew after it', async () => {
    const failures = [
      ...Array.from({ length: 10 }, () => new FerryError('no table', { systemic: true })),
      new FerryError('throttled', { retriable: true }),
      new FerryError('throttled', { retriable: true }),
      new FerryError('no table', { systemic: true }),
      new FerryError('throttled', { retriable: true }),
      new FerryError('throttled', { retriable: true }),
      new FerryError('throttled', { retriable: true }),
    ];
    let calls = 0;
    const err = await createRetry({ ...noSleep, maxAttempts: 3 })(async () => {
      throw failures[calls++];
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as Error).message).toMatch(/gave up after 3 attempts .*throttled/);
    expect(calls).toBe(16);
  });

  it('gives up once maxDurationMs has passed, the last wait cut to end there', async () => {
    const waits: number[] = [];
    let now = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const retry = createRetry({
        initialDelayMs: 1_000,
        maxDelayMs: 1_000,
        maxDurationMs: 2_500,
        sleep: async (ms) => {
          waits.push(ms);
          now += ms;
        },
      });
      const err = await retry(async () => {
        throw new FerryError('down', { retriable: true });
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetriesExhaustedError);
      expect((err as RetriesExhaustedError).elapsedMs).toBe(2_500);
      expect(waits.reduce((a, b) => a + b, 0)).toBe(2_500);
      expect(waits.every((ms) => ms >= 0 && ms <= 1_000)).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });

  it('backs off exponentially with full jitter under a ceiling', () => {
    for (let attempt = 1; attempt < 20; attempt++) {
      const delay = backoffDelay(attempt, { initialDelayMs: 100, maxDelayMs: 5000 });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** attempt));
    }
  });
});

describe('core > retry > stopping', () => {
  const busy = () => Promise.reject(new FerryError('throttled', { retriable: true }));

  it('ends a long backoff at once when its signal aborts', async () => {
    const stopping = new AbortController();
    const started = Date.now();
    const retry = createRetry({ initialDelayMs: 60_000, maxDelayMs: 60_000, signal: stopping.signal });
    setTimeout(() => stopping.abort(), 50);
    await expect(retry(busy)).rejects.toThrow('retry abandoned');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('asks whether to stop again after the backoff, before writing once more', async () => {
    let asked = 0;
    let calls = 0;
    const retry = createRetry({ ...noSleep, shouldStop: () => ++asked === 2 });
    await expect(
      retry(() => {
        calls++;
        return busy();
      }),
    ).rejects.toThrow('retry abandoned');
    // Asked before the wait (keep going), then after it (stop): no second attempt.
    expect([asked, calls]).toEqual([2, 1]);
  });
});
