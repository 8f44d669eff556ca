import { Command } from 'commander';
import { groupMembers, groupOffsets, parseResetTarget, resetGroupOffsets } from '../../source/kafka/offsets';
import { auditTopic, recordAudit } from '../../source/kafka/audit';
import { commandContext } from '../context';
import { json, print, table } from '../output';

/** `ferry offsets show|reset`: where a mapping's consumer group stands, and moving it. */
export function offsetsCommand(): Command {
  const offsets = new Command('offsets').description("Show or move a mapping's consumer group offsets");

  offsets
    .command('show')
    .description('Per partition: committed offset, end offset and lag; and the group members')
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { mapping: string; config?: string; json?: boolean }) => {
      const ctx = await commandContext(opts);
      try {
        const admin = await ctx.admin();
        const [partitions, members] = await Promise.all([
          groupOffsets(admin, ctx.groupId, ctx.topic),
          groupMembers(admin, ctx.groupId),
        ]);
        const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);
        if (opts.json) return print(json({ group: ctx.groupId, topic: ctx.topic, totalLag, partitions, members }));
        print(`group ${ctx.groupId} on ${ctx.topic}: total lag ${totalLag}`);
        print(table(partitions, ['partition', 'committed', 'end', 'lag']));
        print(members.length === 0 ? 'members: none' : `members:\n${table(members as never[])}`);
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
      const target = parseResetTarget(opts.to);
      const ctx = await commandContext(opts);
      try {
        const admin = await ctx.admin();
        const dryRun = opts.dryRun === true;
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
        if (opts.json) return print(json({ group: ctx.groupId, topic: ctx.topic, dryRun, plan }));
        print(table(plan, ['partition', 'from', 'to']));
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
