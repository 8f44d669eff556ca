import { UnorderedChangeError, describe } from '../core/errors';
import type { FerryEvents } from '../core/events';
import type { Logger } from './logger';

/** How often a partition that stays blocked is reported again. */
export const BLOCKED_REPORT_INTERVAL_MS = 30_000;

/**
 * Makes a stuck partition loud: a warning when a retriable failure first holds it, again every
 * 30 s while it lasts (with the latest error and item key), and a line when it clears. Dead
 * letters are logged too, each naming its origin and error, deletes lost to compaction, each
 * with its item and the fix, and changes of the source schema, with what they do to the items. Returns a function that stops it.
 */
export function logPartitionHealth(
  events: FerryEvents,
  logger: Logger,
  intervalMs = BLOCKED_REPORT_INTERVAL_MS,
): () => void {
  type Blocked = { timer?: NodeJS.Timeout; latest: { error: unknown; key?: object }; sinceMs: number };
  const blocked = new Map<string, Blocked>();
  const report = (topic: string, partition: number, state: Blocked) => {
    const fields = {
      topic,
      partition,
      key: state.latest.key,
      blockedSeconds: Math.round((Date.now() - state.sinceMs) / 1000),
      error: describe(state.latest.error),
    };
    // Waiting cannot clear a change without a key: that needs a person, now.
    if (state.latest.error instanceof UnorderedChangeError)
      logger.error(fields, 'partition blocked: a change cannot be ordered; nothing after it is written or committed');
    else logger.warn(fields, 'partition blocked: retrying until the failure clears; nothing after it is committed');
  };
  const seenLetterKinds = new Set<string>();
  const uncheckedReasons = new Set<string>();
  const otherTables = new Set<string>();
  const unsubscribe = [
    events.on('partition.blocked', ({ topic, partition, sinceMs, error, key }) => {
      const id = `${topic}/${partition}`;
      const existing = blocked.get(id);
      if (existing) {
        existing.latest = { error, key };
        return;
      }
      const state: Blocked = { latest: { error, key }, sinceMs };
      state.timer = setInterval(() => report(topic, partition, state), intervalMs).unref();
      blocked.set(id, state);
      report(topic, partition, state);
    }),
    events.on('partition.unblocked', ({ topic, partition, sinceMs }) => {
      const id = `${topic}/${partition}`;
      const state = blocked.get(id);
      if (!state) return;
      clearInterval(state.timer);
      blocked.delete(id);
      logger.info(
        { topic, partition, blockedSeconds: Math.round((Date.now() - sinceMs) / 1000) },
        'partition unblocked',
      );
    }),
    events.on('source.key-changed', ({ topic, partition, offset, table, from, to }) =>
      logger.error(
        { topic, partition, offset, table, keyBefore: from, keyNow: to },
        `the Kafka key of ${table} changed columns: if changes keyed the old way were still unprocessed, one row's changes were on two partitions and may have been applied out of order; see the README runbook "Changing a table's key columns"`,
      ),
    ),
    events.on('source.other-table', ({ sourceTable, table, topic, partition, offset }) => {
      // Said once per table: all its rows are skipped alike.
      if (otherTables.has(table) || otherTables.size >= 100) return;
      otherTables.add(table);
      logger.warn(
        { topic, partition, offset, table, sourceTable },
        `${topic} also carries changes of ${table}: Debezium names the topics of ${table} and ${sourceTable} alike, their names differing only in characters a topic name cannot hold. This worker applies ${sourceTable} only and skips the rows of ${table}`,
      );
    }),
    events.on('source.partitions-grew', ({ topic, groupId, firstNew, partitions, partition, grewBy, behind }) => {
      const unprocessed = behind.reduce((sum, p) => sum + p.messages, 0);
      const at = new Date(grewBy).toISOString();
      // With a multiple of the old count a row stays or moves to a new partition; otherwise it can move between old ones.
      const mended =
        partitions % firstNew === 0
          ? `${partitions} is a multiple of ${firstNew}, so every moved row moved to a new partition, and holding keeps its changes in order`
          : `${partitions} is not a multiple of ${firstNew}, so rows also moved between old partitions, where their changes may already have been applied out of order: run ferry verify`;
      logger.error(
        { topic, group: groupId, newPartitionsFrom: firstNew, partitions, partition, grewBy: at, behind, unprocessed },
        `the partitions of ${topic} grew from ${firstNew} to ${partitions} while partition(s) ${behind.map((p) => `${p.partition} (${p.messages})`).join(', ')} still had ${unprocessed} unprocessed messages from before ${at}, the first message of new partition ${partition}: a row's newer changes could be processed before its older ones. The new partitions are held until those are processed; ${mended}. See the README runbook "Growing a topic's partitions"`,
      );
    }),
    events.on('sink.lost-delete', ({ mapping, table, sourceTable, topic, partition, offset, tombstoneAtMs, items }) => {
      const keys = items.map((i) => JSON.stringify(i.key)).join(', ');
      logger.error(
        {
          table,
          sourceTable,
          topic,
          partition,
          offset,
          key: items.length === 1 ? items[0]?.key : items.map((i) => i.key),
          itemVersion: items.length === 1 ? items[0]?.version : items.map((i) => i.version),
          tombstoneAt: new Date(tombstoneAtMs).toISOString(),
        },
        `lost delete: a row of ${sourceTable} was deleted at the source, but item ${keys} is still in ${table}: only the row's tombstone is left, at ${topic}[${partition}]@${offset}, as its delete event was compacted away before this worker read it (the worker lagged more than the topic's min.compaction.lag.ms). Fix: ferry verify --mapping ${mapping} --repair, and raise min.compaction.lag.ms of ${topic} above the worker's worst lag`,
      );
    }),
    events.on('source.lone-tombstone', ({ mapping, topic, partition, offset, outcome, reason }) => {
      if (outcome !== 'key-not-derivable' && outcome !== 'not-checked') return;
      // Said once per reason: every lone tombstone of the mapping may share it.
      const said = `${outcome}\u0000${reason}`;
      if (uncheckedReasons.has(said) || uncheckedReasons.size >= 100) return;
      uncheckedReasons.add(said);
      logger.warn(
        { topic, partition, offset, outcome, reason },
        `a tombstone was read without its delete event, and whether that delete was lost cannot be checked: ${reason}. If the worker lagged more than the topic's min.compaction.lag.ms, run ferry verify --mapping ${mapping}`,
      );
    }),
    events.on(
      'source.schema-changed',
      ({ mapping, table, topic, partition, offset, committedAtMs, changes, judgement, action }) => {
        const at = new Date(committedAtMs).toISOString();
        const fields = { mapping, table, topic, partition, offset, at, changes, class: judgement.class, action };
        const why = judgement.reasons.join('; ');
        if (judgement.class === 'harmless')
          return logger.info(
            fields,
            `source schema of ${table} changed (${changes}): harmless to mapping ${mapping}, which reads none of these columns`,
          );
        if (judgement.class === 'mapping breaks')
          return logger.error(
            fields,
            `source schema of ${table} changed at ${topic}[${partition}]@${offset} (${changes}): mapping ${mapping} breaks, as ${why}; its next changes will go to the dead letters or map without the column. Fix the mapping and deploy it, redrive the dead letters, then run ferry snapshot --mapping ${mapping}`,
          );
        logger.warn(
          fields,
          `source schema of ${table} changed at ${topic}[${partition}]@${offset} (${changes}): existing rows may differ from their items, as ${why}, and rows no change touches since ${at} were never sent again. ${
            action === 'snapshot'
              ? 'Asked Debezium for an incremental snapshot of the table (onSchemaChange: snapshot): the items converge as it runs'
              : `Fix: ferry snapshot --mapping ${mapping} (or onSchemaChange: 'snapshot' in the mapping)`
          }`,
        );
      },
    ),
    events.on('source.snapshot-requested', ({ mapping, table, signal }) =>
      logger.info({ mapping, table, signal }, `asked Debezium for an incremental snapshot of ${table}`),
    ),
    events.on('dlq.sent', ({ topic, partition, offset, error, message }) => {
      // The first letter of each kind is an error: a new kind of failure needs a person.
      const level = seenLetterKinds.has(error) ? 'warn' : 'error';
      seenLetterKinds.add(error);
      logger[level]({ topic, partition, offset, errorClass: error, error: message }, 'change sent to the dead letters');
    }),
  ];
  return () => {
    unsubscribe.forEach((off) => off());
    for (const { timer } of blocked.values()) clearInterval(timer);
    blocked.clear();
  };
}
