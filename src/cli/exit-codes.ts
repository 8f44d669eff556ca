/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** Something failed (Kafka, DynamoDB or the source unreachable, a write rejected). */
  failure: 1,
  /** Bad input: arguments, configuration, an unknown mapping or table. */
  usage: 2,
  /** Refused as unsafe now (e.g. moving offsets while workers run); nothing changed. */
  refused: 3,
  /** verify: divergence above --max-divergence. */
  diverged: 4,
} as const;
