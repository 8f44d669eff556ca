import { Command } from 'commander';
import { groupMembers, groupOffsets, resetGroupOffsets } from '../../source/kafka/offsets';
import { auditTopic, recordAudit } from '../../source/kafka/audit';
import { requireChangeTopic } from '../../source/kafka/change-topic';
import { createDecoder } from '../../source/debezium/create-decoder';
import { type History, describeGaps, describePolicy, topicHistory } from '../../source/kafka/history';
import { resetTarget } from '../arguments';
import { type CommandContext, commandContext } from '../context';
import { json, print, table } from '../output';

/** `ferry offsets show|reset`: where a mapping's consumer group stands, and moving it. */
export function offsetsCommand(): Command {
  const offsets = new Command('offsets').description("Show or move a mapping's consumer group offsets");

  offsets
    .command('show')
    .description(
      "Per partition: log start, committed and end offsets, lag and the first record's time; the group members; the topic's cleanup policy and retention, and whether a rebuild from earliest would be complete",
    )
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { mapping: string; config?: string; json?: boolean }) => {
      const ctx = await commandContext(opts);
      try {
        const admin = await ctx.admin();
        await requireChangeTopic(admin, ctx.topic, ctx.mapping.sourceTable);
        const [partitions, members, history] = await Promise.all([
          groupOffsets(admin, ctx.groupId, ctx.topic),
          groupMembers(admin, ctx.groupId),
          historyOf(ctx),
        ]);
        const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);
        const rebuild = { complete: history.complete, missing: history.missing };
        if (opts.json)
          return print(
            json({
              group: ctx.groupId,
              topic: ctx.topic,
              totalLag,
              partitions,
              members,
              policy: history.policy,
              rebuild,
            }),
          );
        const first = new Map(history.partitions.map((p) => [p.partition, p.first]));
        print(`group ${ctx.groupId} on ${ctx.topic}: total lag ${totalLag}`);
        print(
          table(
            partitions.map((p) => ({ ...p, 'first record': first.get(p.partition)?.time })),
            ['partition', 'start', 'committed', 'end', 'lag', 'first record'],
          ),
        );
        print(members.length === 0 ? 'members: none' : `members:\n${table(members as never[])}`);
        print(`topic: ${describePolicy(history.policy)}`);
        print(
          history.complete
            ? `rebuild from earliest: complete (every partition starts at offset 0, after the initial snapshot)${byAge(history) ? `, until retention deletes the first records: compact the topic to keep it so` : ''}`
            : `rebuild from earliest: incomplete: ${history.missing.join('; ')} (ferry rebuild --snapshot)`,
        );
      } finally {
        await ctx.close();
      }
    });

  offsets
    .command('reset')
    .description('Move the group to earliest, latest, a time, or explicit offsets; refuses while workers run')
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .requiredOption('--to <target>', 'earliest | latest | <ISO-8601 time> | <partition>=<offset>,...')
    .option('--dry-run', 'print before and after per partition, change nothing')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { mapping: string; to: string; dryRun?: boolean; config?: string; json?: boolean }) => {
      const target = resetTarget('--to', opts.to);
      const ctx = await commandContext(opts);
      try {
        const admin = await ctx.admin();
        await requireChangeTopic(admin, ctx.topic, ctx.mapping.sourceTable);
        const dryRun = opts.dryRun === true;
        // Rewinding keeps the target's rows; it re-applies only what the topic still holds.
        const history = target.kind === 'earliest' ? await historyOf(ctx) : undefined;
        const gaps = history && !history.complete ? describeGaps(history) : undefined;
        // The audit entry is written first: a reset that happened is never missing from it.
        const plan = await resetGroupOffsets(admin, ctx.groupId, ctx.topic, target, {
          dryRun,
          beforeApply: (changes) =>
            recordAudit(ctx.kafka(), ctx.config.kafka.topicPrefix, {
              action: 'offsets.reset',
              group: ctx.groupId,
              topic: ctx.topic,
              detail: { to: opts.to, changes },
            }),
        });
        if (opts.json)
          return print(
            json({
              group: ctx.groupId,
              topic: ctx.topic,
              dryRun,
              plan,
              ...(history ? { missing: history.missing } : {}),
            }),
          );
        print(table(plan, ['partition', 'from', 'to']));
        if (gaps)
          print(
            `${gaps}: the group re-applies only what is there; rows missing from it keep their items as they are (ferry snapshot re-reads the table)`,
          );
        print(
          dryRun
            ? 'dry run: nothing changed'
            : `group ${ctx.groupId} moved; audit entry in ${auditTopic(ctx.config.kafka.topicPrefix)}`,
        );
      } finally {
        await ctx.close();
      }
    });
  return offsets;
}

/** A topic that deletes records by age loses its start, however complete it is today. */
const byAge = (history: History) =>
  history.policy.cleanupPolicy.split(',').includes('delete') && history.policy.retentionMs !== '-1';

const historyOf = async (ctx: CommandContext): Promise<History> =>
  topicHistory(ctx.kafka(), await ctx.admin(), {
    topic: ctx.topic,
    table: ctx.mapping.sourceTable,
    topicPrefix: ctx.config.kafka.topicPrefix,
    mapping: ctx.mapping.name,
    decoder: createDecoder(ctx.config),
  });
