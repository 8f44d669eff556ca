import type { Admin } from 'kafkajs';
import { ConfigError, FerryError, RefusedError, describe } from '../../core/errors';
import {
  type ConnectApi,
  type ConnectorState,
  type ConnectorStatus,
  describeStatus,
  findConnector,
  isIn,
  waitForState,
} from '../connect/connect-client';
import { type PartitionOffsets, groupMembers, groupOffsets } from './offsets';
import { repartitionedGroup } from './partition-growth';

export type RepartitionAdmin = Pick<
  Admin,
  'fetchTopicMetadata' | 'fetchTopicOffsets' | 'fetchOffsets' | 'describeGroups' | 'createPartitions' | 'setOffsets'
>;

export interface RepartitionOptions {
  topic: string;
  groupId: string;
  /** The new partition count; must be larger than the current one. */
  partitions: number;
  /** The connector that writes the topic; found through Connect's topic tracking when not given. */
  connector?: string;
  dryRun: boolean;
  /** How long the group may take to process everything written before the connector stopped. */
  drainTimeoutMs: number;
  /** Lag 0 must hold, with the end offsets unchanged, this long: a record the connector had in flight lands first. */
  settleMs?: number;
  pollMs?: number;
  /** How often a progress line is printed while draining. */
  progressEveryMs?: number;
  /** How long the connector may take to stop, or to run again. */
  connectorTimeoutMs?: number;
}

export interface RepartitionDeps {
  admin: RepartitionAdmin;
  connect: ConnectApi;
  /** Appends an audit entry (who and when are added by the audit log). */
  audit: (detail: Record<string, unknown>) => Promise<void>;
  progress: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RepartitionPlan {
  topic: string;
  group: string;
  connector: string;
  connectorState: string;
  from: number;
  to: number;
  members: number;
  totalLag: number;
  partitions: PartitionOffsets[];
}

export type RepartitionOutcome = 'grown' | 'refused' | 'failed';

export interface RepartitionResult extends RepartitionPlan {
  dryRun: boolean;
  /** How long the group took to drain once the connector had stopped. */
  drainedMs?: number;
  /** From the request to stop the connector until it was back in its state. */
  connectorStoppedMs?: number;
}

/** The connector states ferry knows how to put back. */
const RESTORABLE: ConnectorState[] = ['RUNNING', 'PAUSED', 'STOPPED'];

/**
 * Grows a topic without splitting a row's unprocessed changes over two partitions. Debezium keys
 * a message by the row's primary key, so the producer picks partition hash(key) % count: a larger
 * count sends a row's next change elsewhere (to a new partition, or, unless the count is a
 * multiple of the old one, to another old one), and it could be applied before the row's older
 * changes still waiting in the old partition. So:
 *
 * 1. the connector is stopped (not paused: a paused task keeps its producer, whose metadata says
 *    the old count until `metadata.max.age.ms`, 5 minutes by default, runs out, so after a resume
 *    it would go on hashing by the old count and switch mid-stream; a stopped connector's tasks
 *    close their producers, flushing what they had in flight, and a resumed one starts new
 *    producers that read the new count before their first send);
 * 2. the group processes everything already written: lag 0 on every partition, read fresh, with
 *    the end offsets unchanged for `settleMs`;
 * 3. the partitions are added, and recorded as added after the group drained (repartitionedGroup:
 *    the workers' growth check then knows these are safe);
 * 4. the connector is put back in the state it had (running, paused or stopped).
 *
 * Running workers keep draining while the connector is stopped, and pick up the new partitions
 * at their next metadata refresh (see ChangeConsumer). A drain that does not finish in time is a
 * refusal: nothing grows, the connector is put back. Any failure after the stop puts it back too.
 * The audit log gets an entry before the growth and one with the outcome.
 */
export async function repartitionTopic(options: RepartitionOptions, deps: RepartitionDeps): Promise<RepartitionResult> {
  const { topic, groupId, partitions: to } = options;
  const { admin, connect, progress } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const connectorTimeoutMs = options.connectorTimeoutMs ?? 120_000;

  const from = await partitionCount(admin, topic);
  if (to <= from)
    throw new ConfigError(
      `--partitions ${to}: ${topic} already has ${from} partitions, and Kafka can only add partitions (give a larger count)`,
    );
  const connector = await findConnector(connect, topic, options.connector);
  const before = await connect.status(connector);
  const state = before.connector.state;
  if (!RESTORABLE.includes(state) || (state !== 'STOPPED' && !isIn(before, state)))
    throw new RefusedError(
      `connector ${connector} is ${describeStatus(before)}: ferry grows a topic only from a connector that is running, paused or stopped, all tasks alike, so it can put it back; fix the connector first`,
    );
  const [offsets, members] = await Promise.all([groupOffsets(admin, groupId, topic), groupMembers(admin, groupId)]);
  const plan: RepartitionPlan = {
    topic,
    group: groupId,
    connector,
    connectorState: describeStatus(before),
    from,
    to,
    members: members.length,
    totalLag: offsets.reduce((sum, p) => sum + p.lag, 0),
    partitions: offsets,
  };
  if (options.dryRun) return { ...plan, dryRun: true };

  const audit = (outcome: string, extra: Record<string, unknown> = {}) =>
    deps.audit({ connector, from, to, outcome, ...extra });
  let outcome: RepartitionOutcome = 'failed';
  let failure: unknown;
  let drainedMs: number | undefined;
  const stoppedAt = now();
  try {
    if (state !== 'STOPPED') {
      progress(`stopping connector ${connector} (${describeStatus(before)})`);
      await connect.stop(connector);
    }
    await waitForState(connect, connector, 'STOPPED', { timeoutMs: connectorTimeoutMs, sleep });
    const started = now();
    await drain(admin, options, progress, sleep, now);
    drainedMs = now() - started;
    // Written first: a growth that happened is never missing from the audit log.
    await audit('growing', { drainedMs });
    progress(`group ${groupId} drained in ${(drainedMs / 1000).toFixed(1)} s; growing ${topic} from ${from} to ${to}`);
    await admin.createPartitions({ topicPartitions: [{ topic, count: to }] });
    await waitForCount(admin, topic, to, sleep, now);
    outcome = 'grown';
    await markRepartitioned(admin, groupId, topic, from, to).catch((err: unknown) =>
      progress(
        `the new partitions were not recorded in group ${repartitionedGroup(groupId)} (${describe(err)}): workers may report this growth as unsafe; it was not`,
      ),
    );
  } catch (err) {
    outcome = err instanceof RefusedError ? 'refused' : 'failed';
    failure = err;
  }
  let restoreFailure: unknown;
  try {
    await restore(connect, connector, before, connectorTimeoutMs, sleep, progress);
  } catch (err) {
    restoreFailure = err;
  }
  const restored = restoreFailure === undefined;
  const connectorStoppedMs = now() - stoppedAt;
  await audit(outcome, {
    drainedMs,
    connectorStoppedMs,
    connectorRestored: restored ? describeStatus(before) : `no: ${describe(restoreFailure)}`,
    ...(failure === undefined ? {} : { error: describe(failure) }),
  }).catch((err: unknown) =>
    progress(`the audit entry for the outcome (${outcome}) was not written: ${describe(err)}`),
  );
  if (!restored) {
    const what =
      outcome === 'grown' ? `${topic} was grown to ${to} partitions` : `${topic} still has ${from} partitions`;
    throw new FerryError(
      `${what}, but connector ${connector} could not be put back to ${state}: ${describe(restoreFailure)}${failure === undefined ? '' : `; before that: ${describe(failure)}`}. Put it back by hand (PUT ${connect.url}/connectors/${connector}/${state === 'PAUSED' ? 'pause' : 'resume'})`,
      { cause: restoreFailure },
    );
  }
  if (failure !== undefined) throw failure;
  return { ...plan, dryRun: false, drainedMs, connectorStoppedMs };
}

async function partitionCount(admin: RepartitionAdmin, topic: string): Promise<number> {
  let metadata: Awaited<ReturnType<RepartitionAdmin['fetchTopicMetadata']>>;
  try {
    metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  } catch (err) {
    if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION')
      throw new ConfigError(`topic ${topic} does not exist (has the connector written to it yet?)`);
    throw err;
  }
  return metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
}

/**
 * Waits until every partition's lag is 0 and the end offsets have not moved for `settleMs`;
 * refuses when that takes longer than the drain timeout. Lag and end offsets are read fresh each time.
 */
async function drain(
  admin: RepartitionAdmin,
  options: RepartitionOptions,
  progress: (line: string) => void,
  sleep: (ms: number) => Promise<void>,
  now: () => number,
): Promise<void> {
  const { topic, groupId, drainTimeoutMs } = options;
  const settleMs = options.settleMs ?? 2000;
  const pollMs = options.pollMs ?? 1000;
  const progressEveryMs = options.progressEveryMs ?? 5000;
  const started = now();
  let still: { ends: string; since: number } | undefined;
  let lastProgress = Number.NEGATIVE_INFINITY;
  for (;;) {
    const offsets = await groupOffsets(admin, groupId, topic);
    const lagging = offsets.filter((p) => p.lag > 0);
    const ends = offsets.map((p) => `${p.partition}:${p.end}`).join(',');
    const at = now();
    if (lagging.length === 0) {
      if (still?.ends !== ends) still = { ends, since: at };
      else if (at - still.since >= settleMs) return;
    } else still = undefined;
    const elapsed = at - started;
    if (lagging.length === 0 && elapsed >= drainTimeoutMs + settleMs)
      throw new RefusedError(
        `the end offsets of ${topic} kept moving while the connector was stopped: something else writes to it; ${topic} was not changed. Stop every writer, then run again`,
      );
    if (lagging.length > 0 && elapsed >= drainTimeoutMs) {
      const members = await groupMembers(admin, groupId);
      throw new RefusedError(
        `group ${groupId} did not drain within ${Math.round(drainTimeoutMs / 1000)} s: lag ${describeLag(lagging)}${members.length === 0 ? ' and the group has no member (no worker is running)' : ''}; ${topic} was not changed. Let the workers catch up (ferry offsets show), then run again, or give a longer --drain-timeout`,
      );
    }
    if (at - lastProgress >= progressEveryMs) {
      lastProgress = at;
      progress(
        lagging.length === 0
          ? `group ${groupId}: lag 0, making sure nothing more arrives (${Math.round(elapsed / 1000)} s)`
          : `waiting for group ${groupId} to drain: lag ${describeLag(lagging)} (${Math.round(elapsed / 1000)} s of ${Math.round(drainTimeoutMs / 1000)} s)`,
      );
    }
    await sleep(pollMs);
  }
}

/** "42 on 3 partitions (0: 30, 4: 10, 7: 2)", the largest first, at most eight named. */
function describeLag(lagging: PartitionOffsets[]): string {
  const total = lagging.reduce((sum, p) => sum + p.lag, 0);
  const named = [...lagging]
    .sort((a, b) => b.lag - a.lag)
    .slice(0, 8)
    .map((p) => `${p.partition}: ${p.lag}`);
  return `${total} on ${lagging.length} partition${lagging.length === 1 ? '' : 's'} (${named.join(', ')}${lagging.length > 8 ? ', ...' : ''})`;
}

/** The brokers' metadata shows the new count (createPartitions returns once the controller has it). */
async function waitForCount(
  admin: RepartitionAdmin,
  topic: string,
  count: number,
  sleep: (ms: number) => Promise<void>,
  now: () => number,
): Promise<void> {
  const deadline = now() + 30_000;
  for (;;) {
    const seen = await partitionCount(admin, topic);
    if (seen >= count) return;
    if (now() >= deadline)
      throw new FerryError(`${topic} was asked to grow to ${count} partitions, but the brokers still show ${seen}`);
    await sleep(250);
  }
}

/** Records, before the connector writes again, that partitions from..to-1 were added to a drained topic. */
async function markRepartitioned(admin: RepartitionAdmin, groupId: string, topic: string, from: number, to: number) {
  await admin.setOffsets({
    groupId: repartitionedGroup(groupId),
    topic,
    partitions: Array.from({ length: to - from }, (_, i) => ({ partition: from + i, offset: '0' })),
  });
}

/** Puts the connector back as it was: running, paused, or left stopped. */
async function restore(
  connect: ConnectApi,
  connector: string,
  before: ConnectorStatus,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void>,
  progress: (line: string) => void,
): Promise<void> {
  const state = before.connector.state;
  if (state === 'STOPPED') return;
  progress(`putting connector ${connector} back to ${state}`);
  if (state === 'PAUSED') await connect.pause(connector);
  else await connect.resume(connector);
  await waitForState(connect, connector, state, { timeoutMs, sleep });
}
