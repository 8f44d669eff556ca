import type { PartitionOffsets } from './offsets';

/** When a group replaying a topic counts as caught up (e.g. a rebuild). */
export interface CatchUpRule {
  /** End offset per partition sampled when the replay started: the line to reach, which does not move. */
  targets: Map<number, bigint>;
  /** Caught up once at most this many messages remain before the targets. */
  withinMessages: number;
  /**
   * Or once every partition still short of its target has written a change committed at the
   * source at most this many seconds ago (0: off).
   */
  withinSeconds: number;
}

export interface CatchUp {
  /** Messages still to commit before the targets. */
  remaining: number;
  /** Why it counts as caught up, or undefined while it does not. */
  reason?: 'reached the end offsets sampled at start' | 'within the message allowance' | 'within the time allowance';
}

/**
 * Measures a group against the end offsets sampled at the start, not against the current end: on
 * a busy table the current end keeps moving, and a lag of exactly 0 may never be seen.
 */
export function catchUp(
  offsets: PartitionOffsets[],
  rule: CatchUpRule,
  newestCommitMs: (partition: number) => number | undefined,
  now = Date.now(),
): CatchUp {
  const behind = offsets
    .map((p) => {
      const target = rule.targets.get(p.partition) ?? BigInt(p.end);
      const at = BigInt(p.committed ?? p.start);
      return { partition: p.partition, remaining: at < target ? Number(target - at) : 0 };
    })
    .filter((p) => p.remaining > 0);
  const remaining = behind.reduce((sum, p) => sum + p.remaining, 0);
  if (remaining === 0) return { remaining, reason: 'reached the end offsets sampled at start' };
  if (remaining <= rule.withinMessages) return { remaining, reason: 'within the message allowance' };
  const fresh = (partition: number) => (newestCommitMs(partition) ?? 0) >= now - rule.withinSeconds * 1000;
  if (rule.withinSeconds > 0 && behind.every((p) => fresh(p.partition)))
    return { remaining, reason: 'within the time allowance' };
  return { remaining };
}
