import { Command } from 'commander';
import { createDynamoDbClient } from '../../sink/dynamodb/client';
import { ensureTable } from '../../sink/dynamodb/table-admin';
import { groupOffsets, parseResetTarget, resetGroupOffsets } from '../../source/kafka/offsets';
import { recordAudit } from '../../source/kafka/audit';
import { Worker } from '../../worker';
import { commandContext } from '../context';
import { json, print } from '../output';
import { progressBar } from '../progress';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');

/** `ferry rebuild`: replay the topic into a new shadow table with its own group; the live table is untouched. */
export function rebuildCommand(): Command {
  return new Command('rebuild')
    .description('Rebuild the target into a new shadow table from the topic, until caught up; prints how to cut over')
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('--from <start>', 'earliest | <ISO-8601 time>', 'earliest')
    .option('--table <name>', 'shadow table name (default <target>-rebuild-<time>)')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { mapping: string; from: string; table?: string; config?: string; json?: boolean }) => {
      const start = parseResetTarget(opts.from);
      const ctx = await commandContext(opts);
      const shadow = opts.table ?? `${ctx.mapping.targetTable}-rebuild-${stamp()}`;
      const group = `${ctx.groupId}.rebuild-${shadow}`;
      try {
        const admin = await ctx.admin();
        await ensureTable(createDynamoDbClient(ctx.config.dynamodb), {
          table: shadow,
          partitionKey: ctx.mapping.partitionKey,
          sortKey: ctx.mapping.sortKey,
        });
        // The new group starts where asked; with no committed offsets this needs no refusal check.
        await resetGroupOffsets(admin, group, ctx.topic, start, { dryRun: false });
        await recordAudit(ctx.kafka(), ctx.config.kafka.topicPrefix, {
          action: 'rebuild.start',
          group,
          topic: ctx.topic,
          detail: { shadow, from: opts.from },
        });

        const worker = new Worker(
          { ...ctx.config, http: { ...ctx.config.http, port: 0 } },
          { ...ctx.mapping, targetTable: shadow },
          ctx.logger,
          group,
        );
        await worker.start();
        const bar = progressBar(!opts.json, `rebuilding ${shadow}`);
        const initial = (await groupOffsets(admin, group, ctx.topic)).reduce((sum, p) => sum + p.lag, 0);
        for (;;) {
          const lag = (await groupOffsets(admin, group, ctx.topic)).reduce((sum, p) => sum + p.lag, 0);
          bar.update(Math.max(0, initial - lag), Math.max(initial, 1));
          if (lag === 0) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        bar.stop();
        await worker.stop();
        const steps = [
          `ferry verify --mapping ${opts.mapping} --table ${shadow}`,
          `set target.table to '${shadow}' in ${ctx.config.mapping} and deploy the worker with FERRY_KAFKA_GROUP_ID=${group} (it goes on from where the rebuild stopped)`,
          `switch readers to ${shadow}`,
          `when nothing reads ${ctx.mapping.targetTable} any more, delete it and the old group ${ctx.groupId}`,
        ];
        if (opts.json) return print(json({ shadow, group, caughtUp: true, cutover: steps }));
        print(
          `${shadow} has caught up with ${ctx.topic} (group ${group}); ${ctx.mapping.targetTable} was not touched. To cut over:`,
        );
        steps.forEach((step, i) => print(`  ${i + 1}. ${step}`));
      } finally {
        await ctx.close();
      }
    });
}
