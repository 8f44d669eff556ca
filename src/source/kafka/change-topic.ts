import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { ConfigError } from '../../core/errors';
import type { Logger } from '../../observability/logger';

export interface ChangeTopicWait {
  topic: string;
  /** The source table whose changes the topic carries, for the operator. */
  sourceTable: string;
  /** How often the topic list is read again. */
  pollMs?: number;
  /** How often the wait is logged again. */
  logEveryMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves once the change topic exists: true, or false when `signal` ended the wait. Debezium
 * creates the topic with the first change (or snapshot row) of its table, with the partitions its
 * connector asks for; a consumer asking for it first must not have the broker create it with its
 * own defaults (often one partition), so ferry's consumers never create topics, and a worker
 * deployed before its connector waits here, saying what for.
 */
export async function waitForChangeTopic(admin: Pick<Admin, 'listTopics'>, wait: ChangeTopicWait, logger: Logger) {
  const { topic, sourceTable, pollMs = 5000, logEveryMs = 60_000, signal } = wait;
  let loggedAt = -Infinity;
  for (;;) {
    if (signal?.aborted) return false;
    if ((await admin.listTopics()).includes(topic)) return true;
    if (Date.now() - loggedAt >= logEveryMs) {
      logger.warn(
        { topic, sourceTable },
        `${changeTopicMissing(topic, sourceTable)}. Waiting; if this lasts, check ${whatToCheck(sourceTable)}`,
      );
      loggedAt = Date.now();
    }
    // A stop ends the pause at once (its rejection), and the loop then returns false.
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}

const changeTopicMissing = (topic: string, sourceTable: string) =>
  `the change topic ${topic} does not exist yet: Debezium creates it with the first change of ${sourceTable} it captures`;
const whatToCheck = (sourceTable: string) =>
  `that the connector runs and captures ${sourceTable} (ferry connector), and FERRY_KAFKA_TOPIC_PREFIX`;

/**
 * For commands that read the change topic: its absence, said with what creates it and what to
 * check (kafkajs's own answer names no topic). Asked with the topic list, which creates nothing.
 */
export async function requireChangeTopic(admin: Pick<Admin, 'listTopics'>, topic: string, sourceTable: string) {
  if ((await admin.listTopics()).includes(topic)) return;
  throw new ConfigError(`${changeTopicMissing(topic, sourceTable)}; check ${whatToCheck(sourceTable)}`);
}
